package dev.dialer.dispatcher;

import org.mockito.Mockito;
import org.mockito.stubbing.Answer;
import org.springframework.beans.factory.config.BeanPostProcessor;

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
}
