package dev.dialer.common.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.SocketOption;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.Test;

/** The options are read back from the kernel ({@code getsockopt}), not from what was asked. */
class PostgresSocketsTest {

    @Test
    void aNativeSocketGivesUpASilentServerAfterItsKeepaliveTimingsAndUnacknowledgedDataLimit() {
        assumeTrue(Epoll.isAvailable(), "the native transport runs on Linux only");
        Channel channel = PostgresSockets.INSTANCE.onChannel(SocketChannel.class,
                PostgresSockets.INSTANCE.onClient(true));
        try {
            assertThat(channel).isInstanceOf(EpollSocketChannel.class);
            assertThat(channel.config().getOption(EpollChannelOption.TCP_KEEPIDLE)).isEqualTo(30);
            assertThat(channel.config().getOption(EpollChannelOption.TCP_KEEPINTVL)).isEqualTo(10);
            assertThat(channel.config().getOption(EpollChannelOption.TCP_KEEPCNT)).isEqualTo(3);
            assertThat(channel.config().getOption(EpollChannelOption.TCP_USER_TIMEOUT)).isEqualTo(60_000);
        } finally {
            channel.unsafe().closeForcibly();
        }
    }

    @Test
    void javasOwnTransportGetsTheKeepaliveTimings() {
        NioSocketChannel channel = new NioSocketChannel();
        try {
            PostgresSockets.bound(channel);
            assertThat(channel.config().getOption(nio(ExtendedSocketOptions.TCP_KEEPIDLE))).isEqualTo(30);
            assertThat(channel.config().getOption(nio(ExtendedSocketOptions.TCP_KEEPINTERVAL))).isEqualTo(10);
            assertThat(channel.config().getOption(nio(ExtendedSocketOptions.TCP_KEEPCOUNT))).isEqualTo(3);
        } finally {
            channel.unsafe().closeForcibly();
        }
    }

    @Test
    void disposingOfItLeavesReactorNettysSharedLoopsRunning() {
        PostgresSockets.INSTANCE.dispose();
        PostgresSockets.INSTANCE.disposeLater().block();

        assertThat(PostgresSockets.INSTANCE.onClient(true).isShuttingDown()).isFalse();
    }

    private static ChannelOption<Integer> nio(SocketOption<Integer> option) {
        return NioChannelOption.of(option);
    }
}
