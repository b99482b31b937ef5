package dev.dialer.common.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dialer.infra.Infrastructure;
import io.netty.channel.Channel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.lang.reflect.Field;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A connection opened with the options every service applies ({@link PostgresSessions#applyTo}), against a real
 * PostgreSQL: its socket, read back from the kernel, keeps alive and gives up a silent server as the server does.
 */
class PostgresSocketsIT {

    @Test
    void aServicesConnectionGivesUpASilentServerWithinAboutAMinute() throws Exception {
        assumeTrue(Epoll.isAvailable(), "the native transport runs on Linux only");
        Infrastructure.Endpoints endpoints = Infrastructure.shared();
        ConnectionFactoryOptions.Builder options = ConnectionFactoryOptions.parse(endpoints.r2dbcUrl()).mutate()
                .option(ConnectionFactoryOptions.USER, endpoints.username())
                .option(ConnectionFactoryOptions.PASSWORD, endpoints.password());
        PostgresSessions.applyTo(options);

        Connection connection = Mono.from(ConnectionFactories.get(options.build()).create())
                .block(Duration.ofSeconds(30));
        try {
            Integer answer = Flux.from(connection.createStatement("SELECT 1").execute())
                    .flatMap(result -> result.map((row, meta) -> row.get(0, Integer.class)))
                    .blockFirst(Duration.ofSeconds(10));
            assertThat(answer).isEqualTo(1);

            Channel channel = channelOf(connection);
            assertThat(channel).isInstanceOf(EpollSocketChannel.class);
            assertThat(((EpollSocketChannel) channel).config().isKeepAlive()).isTrue();
            assertThat(channel.config().getOption(EpollChannelOption.TCP_KEEPIDLE)).isEqualTo(30);
            assertThat(channel.config().getOption(EpollChannelOption.TCP_KEEPINTVL)).isEqualTo(10);
            assertThat(channel.config().getOption(EpollChannelOption.TCP_KEEPCNT)).isEqualTo(3);
            assertThat(channel.config().getOption(EpollChannelOption.TCP_USER_TIMEOUT)).isEqualTo(60_000);
        } finally {
            Mono.from(connection.close()).block(Duration.ofSeconds(10));
        }
    }

    /** The driver keeps its Netty connection to itself: read through its private fields, for this test only. */
    private static Channel channelOf(Connection connection) throws ReflectiveOperationException {
        Object client = field(connection, "client");
        reactor.netty.Connection netty = (reactor.netty.Connection) field(client, "connection");
        return netty.channel();
    }

    private static Object field(Object owner, String name) throws ReflectiveOperationException {
        Field field = owner.getClass().getDeclaredField(name);
        field.setAccessible(true);
        return field.get(owner);
    }
}
