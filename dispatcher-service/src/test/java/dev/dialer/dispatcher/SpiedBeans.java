package dev.dialer.dispatcher;

import java.util.Set;
import java.util.function.Function;
import org.mockito.Mockito;
import org.mockito.invocation.InvocationOnMock;
import org.mockito.stubbing.Answer;
import org.springframework.beans.factory.config.BeanPostProcessor;
import reactor.core.publisher.Mono;

/**
 * Wraps one bean of the application, as it is made, in a spy whose every call goes through an answer that calls the
 * real method: tests use it to hold a statement, run it twice or report its answer lost, never to replace it. No
 * stubbing, so the spy is safe to call from any thread at any time.
 */
public final class SpiedBeans {

    private SpiedBeans() {
    }

    /** For a {@code static @Bean} of a test configuration: the bean of {@code type} answered by {@code answer}. */
    public static <T> BeanPostProcessor around(Class<T> type, Answer<Object> answer) {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessAfterInitialization(Object bean, String name) {
                return type.isInstance(bean)
                        ? Mockito.mock(type, Mockito.withSettings().spiedInstance(bean).stubOnly().defaultAnswer(answer))
                        : bean;
            }
        };
    }

    /**
     * An answer for {@link #around}: {@code method} (one that answers a {@link Mono}) is run a second time once its
     * first run completes, as a statement run again after its commit went unacknowledged is, once for each request of
     * {@code once} ({@code requestId} names a call's); every other call is run as it is.
     */
    public static Answer<Object> runTwice(String method, Function<InvocationOnMock, String> requestId,
                                          Set<String> once) {
        return invocation -> {
            Object result = invocation.callRealMethod();
            if (invocation.getMethod().getName().equals(method) && once.remove(requestId.apply(invocation))) {
                return ((Mono<?>) result).then((Mono<?>) invocation.callRealMethod());
            }
            return result;
        };
    }
}
