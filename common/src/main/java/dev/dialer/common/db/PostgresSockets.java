package dev.dialer.common.db;

import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.SocketOption;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.net.ExtendedSocketOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.resources.LoopResources;
import reactor.netty.tcp.TcpResources;

/**
 * The client's side of {@link PostgresSessions}: every PostgreSQL connection a service opens gives the server up about
 * a minute after it went silent, as the server gives up a silent service. The operating system's defaults would wait
 * two hours of keepalive for a connection waiting for an answer, and some fifteen minutes of retransmissions for one
 * whose statement was never acknowledged (a failover that left the old primary's host unreachable: no FIN, no RST).
 * Meanwhile every statement on that connection waits, and with it whatever waits for the statement: a partition's
 * commands, a relay round, a webhook delivery. Once the socket is closed the driver fails the statement as a lost
 * connection, which each service already waits out on a new one, and the pool discards the closed connection.
 *
 * <p>The driver sets only whether keepalive is on ({@code tcpKeepAlive}); its timings, and the limit on data left
 * unacknowledged ({@code TCP_USER_TIMEOUT}), are set here, on each socket as Reactor Netty creates it. The event loops
 * are Reactor Netty's own shared ones ({@link TcpResources}), the ones the driver uses when given none: nothing else
 * changes, and disposing of this changes nothing either. On the native transport (Linux) all four are set; on Java's
 * own (NIO), the keepalive timings alone, and statements never acknowledged are left to the operating system.
 */
public final class PostgresSockets implements LoopResources {

    /** Keepalive probes after this much silence, as the server's {@code tcp_keepalives_idle}. */
    static final Duration KEEPALIVE_IDLE = Duration.ofSeconds(30);
    /** Between probes, as the server's {@code tcp_keepalives_interval}. */
    static final Duration KEEPALIVE_INTERVAL = Duration.ofSeconds(10);
    /** Unanswered probes that end the connection, as the server's {@code tcp_keepalives_count}. */
    static final int KEEPALIVE_COUNT = 3;
    /** Data left unacknowledged this long ends the connection, as the server's {@code tcp_user_timeout}. */
    static final Duration USER_TIMEOUT = Duration.ofSeconds(60);

    static final PostgresSockets INSTANCE = new PostgresSockets();

    private static final Logger log = LoggerFactory.getLogger(PostgresSockets.class);
    private static final AtomicBoolean toldPartial = new AtomicBoolean();
    private static final String TWO_HOURS = "up to two hours";
    private static final String FIFTEEN_MINUTES = "some fifteen minutes when a statement was never acknowledged";

    private PostgresSockets() {
    }

    /** Reactor Netty's shared loops, asked each time: they are made anew if something disposed of them. */
    private static LoopResources loops() {
        return TcpResources.get();
    }

    @Override
    public <C extends Channel> C onChannel(Class<C> channelType, EventLoopGroup group) {
        C channel = loops().onChannel(channelType, group);
        if (channel instanceof SocketChannel) {
            bound(channel);
        }
        return channel;
    }

    /**
     * Sets the keepalive timings and the unacknowledged-data limit on a socket not yet connected, as far as its
     * transport allows; the driver switches keepalive itself on. Says once, at warning level, what it could not set.
     */
    static void bound(Channel channel) {
        ChannelConfig config = channel.config();
        int idle = (int) KEEPALIVE_IDLE.toSeconds();
        int interval = (int) KEEPALIVE_INTERVAL.toSeconds();
        if (channel instanceof EpollSocketChannel) {
            boolean set = config.setOption(EpollChannelOption.TCP_KEEPIDLE, idle)
                    & config.setOption(EpollChannelOption.TCP_KEEPINTVL, interval)
                    & config.setOption(EpollChannelOption.TCP_KEEPCNT, KEEPALIVE_COUNT)
                    & config.setOption(EpollChannelOption.TCP_USER_TIMEOUT, (int) USER_TIMEOUT.toMillis());
            if (!set) {
                tellPartial(channel, "all of its keepalive timings and its unacknowledged-data limit", TWO_HOURS);
            }
        } else if (channel instanceof NioSocketChannel) {
            boolean set = config.setOption(nio(ExtendedSocketOptions.TCP_KEEPIDLE), idle)
                    & config.setOption(nio(ExtendedSocketOptions.TCP_KEEPINTERVAL), interval)
                    & config.setOption(nio(ExtendedSocketOptions.TCP_KEEPCOUNT), KEEPALIVE_COUNT);
            tellPartial(channel, set ? "its unacknowledged-data limit" : "its keepalive timings",
                    set ? FIFTEEN_MINUTES : TWO_HOURS);
        } else {
            tellPartial(channel, "its keepalive timings", TWO_HOURS);
        }
    }

    private static ChannelOption<Integer> nio(SocketOption<Integer> option) {
        return NioChannelOption.of(option);
    }

    private static void tellPartial(Channel channel, String what, String until) {
        if (toldPartial.compareAndSet(false, true)) {
            log.warn("PostgreSQL connections on {} cannot have {} set: a server that goes silent may be waited for {}, "
                    + "as the operating system's TCP settings say", channel.getClass().getSimpleName(), what, until);
        }
    }

    @Override
    public <C extends Channel> Class<? extends C> onChannelClass(Class<C> channelType, EventLoopGroup group) {
        return loops().onChannelClass(channelType, group);
    }

    @Override
    public EventLoopGroup onClient(boolean useNative) {
        return loops().onClient(useNative);
    }

    @Override
    public EventLoopGroup onServer(boolean useNative) {
        return loops().onServer(useNative);
    }

    @Override
    public EventLoopGroup onServerSelect(boolean useNative) {
        return loops().onServerSelect(useNative);
    }

    @Override
    public boolean daemon() {
        return loops().daemon();
    }

    /** The loops are Reactor Netty's, shared by the whole process: they are not this one's to dispose of. */
    @Override
    public Mono<Void> disposeLater(Duration quietPeriod, Duration timeout) {
        return Mono.empty();
    }

    @Override
    public Mono<Void> disposeLater() {
        return Mono.empty();
    }

    @Override
    public void dispose() {
        // Reactor Netty's shared loops: see disposeLater.
    }
}
