package dev.dialer.api.problem;

import java.util.List;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponseException;

/**
 * A request the API refuses, carrying its RFC 9457 problem. Built through {@link Problems}, which owns the type URIs;
 * rendered by {@link ProblemAdvice} or, outside controllers, by {@link ProblemWebExceptionHandler}.
 */
public class ApiProblem extends ErrorResponseException {

    ApiProblem(ProblemDetail problem, Throwable cause) {
        super(HttpStatusCode.valueOf(problem.getStatus()), problem, cause);
    }

    /** The invalid fields, empty when the problem is not about fields. */
    @SuppressWarnings("unchecked")
    public List<FieldProblem> errors() {
        var properties = getBody().getProperties();
        Object errors = properties == null ? null : properties.get(Problems.ERRORS);
        return errors instanceof List<?> list ? (List<FieldProblem>) list : List.of();
    }

    @Override
    public String getMessage() {
        return getBody().getStatus() + " " + getBody().getDetail() + (errors().isEmpty() ? "" : " " + errors());
    }
}
