package dev.dialer.api.problem;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebInputException;
import org.springframework.web.server.UnsupportedMediaTypeStatusException;

/** Renders every refusal as RFC 9457 problem details; bad input never becomes a 5xx. */
@RestControllerAdvice
class ProblemResponses {

    @ExceptionHandler(ApiProblem.class)
    ResponseEntity<ProblemDetail> apiProblem(ApiProblem problem) {
        return render(problem);
    }

    @ExceptionHandler(ServerWebInputException.class)
    ResponseEntity<ProblemDetail> unreadable(ServerWebInputException e) {
        return render(ApiProblem.invalid("body", "cannot be read: " + e.getReason()));
    }

    @ExceptionHandler(UnsupportedMediaTypeStatusException.class)
    ResponseEntity<ProblemDetail> unsupported(UnsupportedMediaTypeStatusException e) {
        ProblemDetail detail = ProblemDetail.forStatusAndDetail(e.getStatusCode(), e.getReason());
        detail.setType(Problems.UNSUPPORTED);
        return ResponseEntity.status(e.getStatusCode()).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(detail);
    }

    @ExceptionHandler(ResponseStatusException.class)
    ResponseEntity<ProblemDetail> status(ResponseStatusException e) {
        HttpStatusCode code = e.getStatusCode();
        ProblemDetail detail = ProblemDetail.forStatusAndDetail(code, e.getReason());
        detail.setType(Problems.BAD_REQUEST);
        return ResponseEntity.status(code).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(detail);
    }

    static ResponseEntity<ProblemDetail> render(ApiProblem problem) {
        ProblemDetail detail = ProblemDetail.forStatusAndDetail(problem.status(), problem.getMessage());
        detail.setType(problem.type());
        if (!problem.errors().isEmpty()) {
            detail.setProperty("errors", problem.errors());
        }
        ResponseEntity.BodyBuilder response = ResponseEntity.status(problem.status())
                .contentType(MediaType.APPLICATION_PROBLEM_JSON);
        if (problem.retryAfter() != null) {
            response.header(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, problem.retryAfter().toSeconds())));
        }
        return response.body(detail);
    }
}
