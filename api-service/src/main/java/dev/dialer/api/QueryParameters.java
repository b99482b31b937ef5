package dev.dialer.api;

import dev.dialer.api.problem.JsonMembers;
import dev.dialer.api.problem.Problems;
import java.util.List;
import org.springframework.http.server.reactive.ServerHttpRequest;

/**
 * Refuses the query parameters a list endpoint does not read. A filter misspelt ({@code foreignId} for
 * {@code foreign_id}) would otherwise be ignored, and the list answered unfiltered as if it were what was asked for:
 * a client looking up its call by reference would read another call. A 400 naming the parameter, like any other
 * parameter the endpoint cannot use. So is a parameter given more than once ({@code campaign=a&campaign=b}, as
 * clients write a list): each filter takes one value, and the framework would hand the endpoint the values joined by
 * a comma, a filter on text nobody asked for, answered with an empty page.
 */
public final class QueryParameters {

    private QueryParameters() {
    }

    /**
     * Throws a validation problem naming the first query parameter of {@code request} not in {@code known}, or the
     * first given more than once.
     */
    public static void requireKnown(ServerHttpRequest request, List<String> known) {
        request.getQueryParams().forEach((name, values) -> {
            if (!known.contains(name)) {
                throw Problems.validation(name, "is not a parameter of this endpoint, which takes "
                        + (known.isEmpty() ? "none" : String.join(", ", known)));
            }
            if (values.size() > 1) {
                throw Problems.validation(name, JsonMembers.GIVEN_TWICE + "; it takes one value");
            }
        });
    }
}
