package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.resolver.dns.DnsServerAddresses;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/**
 * The webhooks' DNS lookups against a name server of the test's own (real UDP, Netty's DNS codec): names under
 * {@code silent.test} are never answered, names under {@code missing.test} do not exist, every other name is
 * 192.0.2.10.
 */
class DnsLookupsTest {

    private EventLoopGroup serverLoop;
    private Channel server;
    private static final int YEAR_SECONDS = 365 * 24 * 3600;

    private final AtomicInteger silentQueries = new AtomicInteger();
    /** Queries for names under {@code year.test}, whose answers say to keep them a year. */
    private final AtomicInteger yearQueries = new AtomicInteger();
    private DnsLookups lookups;

    @BeforeEach
    void nameServer() throws Exception {
        serverLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        server = new Bootstrap().group(serverLoop).channel(NioDatagramChannel.class)
                .handler(new ChannelInitializer<NioDatagramChannel>() {
                    @Override
                    protected void initChannel(NioDatagramChannel channel) {
                        channel.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                                new Answers());
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
    }

    @AfterEach
    void stop() {
        if (lookups != null) {
            lookups.close();
        }
        server.close();
        serverLoop.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    }

    private DnsLookups lookups(Duration timeout) {
        InetSocketAddress address = (InetSocketAddress) server.localAddress();
        lookups = new DnsLookups(timeout, host -> DnsServerAddresses.singleton(address).stream());
        return lookups;
    }

    @Test
    void answersANameFromTheNameServer() {
        InetAddress[] addresses = lookups(Duration.ofSeconds(5)).resolve("hooks.example.test").block();

        assertThat(addresses).extracting(InetAddress::getHostAddress).containsExactly("192.0.2.10");
    }

    @Test
    void aNameThatDoesNotExistIsUnknownNotAFailedLookup() {
        StepVerifier.create(lookups(Duration.ofSeconds(5)).resolve("nowhere.missing.test"))
                .expectErrorSatisfies(error -> assertThat(error).isInstanceOf(UnknownHostException.class)
                        .isNotInstanceOf(HostLookups.LookupFailedException.class))
                .verify(Duration.ofSeconds(20));
    }

    @Test
    void aNameServerThatNeverAnswersFailsTheLookupAfterTheTimeout() {
        StepVerifier.create(lookups(Duration.ofMillis(300)).resolve("a.silent.test"))
                .expectErrorSatisfies(error -> assertThat(error).isInstanceOf(HostLookups.LookupFailedException.class)
                        .hasMessageContaining("a.silent.test"))
                .verify(Duration.ofSeconds(20));
    }

    @Test
    void aFailedLookupSaysNothingOfTheServicesOwnNameServers() {
        // The message goes to the account's delivery log: the name server's address and port are the service's own.
        String port = String.valueOf(((InetSocketAddress) server.localAddress()).getPort());
        StepVerifier.create(lookups(Duration.ofMillis(300)).resolve("c.silent.test"))
                .expectErrorSatisfies(error -> assertThat(error.getMessage())
                        .isEqualTo("DNS lookup of c.silent.test got no answer")
                        .doesNotContain(port).doesNotContain("127.0.0.1").doesNotContain("localhost"))
                .verify(Duration.ofSeconds(20));
    }

    @Test
    void namesThatNeverAnswerDoNotHoldUpTheOthers() throws Exception {
        // Thousands of lookups of names whose name server never answers (a socket that reads nothing: 4,000 queries
        // would overflow the receive buffer of the test's own name server, which must stay free to answer).
        try (java.net.DatagramSocket silentServer = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            InetSocketAddress silentAddress = new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    silentServer.getLocalPort());
            InetSocketAddress answering = (InetSocketAddress) server.localAddress();
            lookups = new DnsLookups(Duration.ofSeconds(30), host -> DnsServerAddresses.singleton(
                    host.contains("silent.test") ? silentAddress : answering).stream());
            List<CompletableFuture<InetAddress[]>> silent = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                silent.add(lookups.resolve("host" + i + ".silent.test").toFuture());
            }

            InetAddress[] answered = lookups.resolve("hooks.example.test").block(Duration.ofSeconds(20));

            assertThat(answered).extracting(InetAddress::getHostAddress).containsExactly("192.0.2.10");
            assertThat(silent).noneMatch(CompletableFuture::isDone);
            silentServer.setSoTimeout(5_000);
            silentServer.receive(new java.net.DatagramPacket(new byte[512], 512)); // the silent names were asked
        }
    }

    @Test
    void aSilentNameServerIsLeftForTheNextWithinTheLookupsTime() throws Exception {
        InetSocketAddress answering = (InetSocketAddress) server.localAddress();
        try (java.net.DatagramSocket silent = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            InetSocketAddress silentAddress = new InetSocketAddress(InetAddress.getLoopbackAddress(), silent.getLocalPort());
            lookups = new DnsLookups(Duration.ofMillis(200),
                    host -> DnsServerAddresses.sequential(silentAddress, answering).stream());
            HostLookups bounded = HostLookups.nonBlocking(lookups, Duration.ofSeconds(5));

            assertThat(bounded.resolve("hooks.example.test").block())
                    .extracting(InetAddress::getHostAddress).containsExactly("192.0.2.10");
        }
    }

    @Test
    void theServicesLookupsBoundEachOneByTheirTimeout() {
        HostLookups bounded = HostLookups.nonBlocking(lookups(Duration.ofSeconds(30)), Duration.ofMillis(300));

        StepVerifier.create(bounded.resolve("b.silent.test"))
                .expectError(HostLookups.LookupFailedException.class)
                .verify(Duration.ofSeconds(20));
        assertThat(bounded.resolve("hooks.example.test").block())
                .extracting(InetAddress::getHostAddress).containsExactly("192.0.2.10");
    }

    @Test
    void callersOfOneHostShareItsLookupWhichEndsWhenTheLastOfThemGivesUp() {
        HostLookups bounded = HostLookups.nonBlocking(lookups(Duration.ofSeconds(30)), Duration.ofMillis(500));

        List<CompletableFuture<InetAddress[]>> callers = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            callers.add(bounded.resolve("one.silent.test").toFuture());
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> callers.stream().allMatch(CompletableFuture::isDone));
        assertThat(callers).allMatch(CompletableFuture::isCompletedExceptionally);
        assertThat(silentQueries.get()).as("one query per record type (A, AAAA), not one per caller")
                .isBetween(1, 2);
        // Given up with its callers: the next caller starts a lookup of its own.
        StepVerifier.create(bounded.resolve("one.silent.test"))
                .expectError(HostLookups.LookupFailedException.class)
                .verify(Duration.ofSeconds(10));
        assertThat(silentQueries.get()).isBetween(2, 4);
    }

    @Test
    void anAnswerIsKeptNoLongerThanTheLongestCachedTimeWhateverItsTtlSays() throws Exception {
        InetSocketAddress address = (InetSocketAddress) server.localAddress();
        lookups = new DnsLookups(Duration.ofSeconds(5), host -> DnsServerAddresses.singleton(address).stream(),
                Duration.ofSeconds(1));

        lookups.resolve("per-call.year.test").block(Duration.ofSeconds(10));
        lookups.resolve("per-call.year.test").block(Duration.ofSeconds(10));
        assertThat(yearQueries.get()).as("the second answered from the cache").isOne();

        Thread.sleep(1_500);
        assertThat(lookups.resolve("per-call.year.test").block(Duration.ofSeconds(10)))
                .extracting(InetAddress::getHostAddress).containsExactly("192.0.2.10");
        assertThat(yearQueries.get()).as("asked again once the longest cached time passed").isEqualTo(2);
        assertThat(DnsLookups.MAX_CACHED).isLessThanOrEqualTo(Duration.ofMinutes(5));
    }

    /** The test's name server. */
    private final class Answers extends SimpleChannelInboundHandler<DatagramDnsQuery> {
        @Override
        protected void channelRead0(ChannelHandlerContext context, DatagramDnsQuery query) {
            DnsQuestion question = query.recordAt(DnsSection.QUESTION);
            String name = question.name();
            if (name.endsWith("silent.test.")) {
                silentQueries.incrementAndGet();
                return;
            }
            DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
            response.addRecord(DnsSection.QUESTION, question);
            if (name.endsWith("missing.test.")) {
                response.setCode(DnsResponseCode.NXDOMAIN);
            } else if (question.type() == DnsRecordType.A) {
                if (name.endsWith("year.test.")) {
                    yearQueries.incrementAndGet();
                }
                response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(name, DnsRecordType.A,
                        name.endsWith("year.test.") ? YEAR_SECONDS : 60,
                        Unpooled.wrappedBuffer(new byte[] {(byte) 192, 0, 2, 10})));
            }
            context.writeAndFlush(response);
        }
    }
}
