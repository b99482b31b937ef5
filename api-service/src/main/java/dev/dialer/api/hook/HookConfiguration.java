package dev.dialer.api.hook;

import dev.dialer.common.hook.PlainHttpPolicy;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The plain-http policy every URL the dialer delivers to is checked against where it is given. */
@Configuration(proxyBeanMethods = false)
class HookConfiguration {

    @Bean
    PlainHttpPolicy plainHttpPolicy(HookProperties properties) {
        return properties.plainHttpPolicy();
    }
}
