package dev.dialer.dispatcher.retry;

import java.time.Clock;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The clock retry due times are computed and compared with; a bean, so tests can control time. */
@Configuration(proxyBeanMethods = false)
class RetryConfiguration {

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }
}
