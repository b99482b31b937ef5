package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.common.hook.AllowList;
import dev.dialer.common.hook.PlainHttpPolicy;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class TargetGuardTest {

    /** A fake DNS: each test host name stands for an address class. */
    private static final Map<String, String> DNS = Map.of(
            "public.test", "93.184.216.34",
            "private.test", "10.1.2.3",
            "metadata.test", "169.254.169.254",
            "mixed.test", "93.184.216.34,192.168.1.10",
            "public6.test", "2606:2800:220:1:248:1893:25c8:1946",
            "ula.test", "fd12:3456::1",
            "cgnat-metadata.test", "100.100.100.200",
            "nat64-metadata.test", "64:ff9b::a9fe:a9fe",
            "nat64-public.test", "64:ff9b::5db8:d822");

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.5.5.5", "::1", "10.0.0.1", "172.16.0.1", "172.31.255.255",
            "192.168.0.1", "169.254.169.254", "169.254.1.1", "0.0.0.0", "0.1.2.3", "::", "fe80::1", "fc00::1",
            "fd00:ec2::254", "::ffff:10.0.0.1"})
    void internalAddressesAreRecognised(String address) throws Exception {
        assertThat(TargetGuard.isInternal(InetAddress.getByName(address))).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"100.64.0.1", "100.100.100.200", "100.127.255.255", "192.0.0.1", "192.0.0.170",
            "198.18.0.1", "198.19.255.255", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
            "fec0::1", "ff02::1", "64:ff9b:1::a00:1"})
    void sharedSpecialPurposeMulticastAndReservedAddressesAreInternal(String address) throws Exception {
        assertThat(TargetGuard.isInternal(InetAddress.getByName(address))).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            // IPv4-compatible ::10.0.0.1 and ::127.0.0.1
            "::a00:1", "::7f00:1",
            // NAT64 of 169.254.169.254, 10.0.0.1 and 100.100.100.200
            "64:ff9b::a9fe:a9fe", "64:ff9b::a00:1", "64:ff9b::6464:64c8",
            // 6to4 of 169.254.169.254 and 127.0.0.1
            "2002:a9fe:a9fe::1", "2002:7f00:1::",
            // SIIT's IPv4-translated 127.0.0.1 and 10.0.0.1
            "::ffff:0:7f00:1", "::ffff:0:a00:1",
            // Teredo, carrying 127.0.0.1 obscured; the discard-only prefix; documentation
            "2001:0:4136:e378:8000:63bf:80ff:fffe", "100::1", "2001:db8::1"})
    void ipv6AddressesCarryingAnInternalIpv4AddressAreInternal(String address) throws Exception {
        assertThat(TargetGuard.isInternal(InetAddress.getByName(address))).isTrue();
    }

    @Test
    void anIpv4MappedAddressHeldAsIpv6IsCheckedAsTheIpv4AddressItCarries() throws Exception {
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 169, (byte) 254, (byte) 169,
                (byte) 254};
        byte[] mappedPublic = mapped.clone();
        mappedPublic[12] = 93;
        mappedPublic[13] = (byte) 184;

        assertThat(TargetGuard.isInternal(Inet6Address.getByAddress(null, mapped, -1))).isTrue();
        assertThat(TargetGuard.isInternal(Inet6Address.getByAddress(null, mappedPublic, -1))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"93.184.216.34", "172.32.0.1", "172.15.255.255", "192.169.0.1", "8.8.8.8",
            "100.63.255.255", "100.128.0.1", "192.0.1.1", "198.17.255.255", "198.20.0.1", "223.255.255.255",
            "2606:2800:220:1:248:1893:25c8:1946", "fe00::1", "64:ff9b::5db8:d822", "2002:5db8:d822::1",
            "::5db8:d822"})
    void publicAddressesAreNotInternal(String address) throws Exception {
        assertThat(TargetGuard.isInternal(InetAddress.getByName(address))).isFalse();
    }

    @Test
    void onlyHttpAndHttpsAreCalled() {
        TargetGuard guard = guard(List.of());

        assertPermits(guard, "https://public.test/hook", true);
        assertPermits(guard, "HTTP://public.test/hook", true);
        assertPermits(guard, "ftp://public.test/hook", false);
        assertPermits(guard, "file:///etc/passwd", false);
        assertPermits(guard, "not a url", false);
        assertPermits(guard, "/relative/path", false);
    }

    @Test
    void hostsResolvingToAnInternalAddressAreRefused() {
        TargetGuard guard = guard(List.of());

        assertPermits(guard, "http://private.test/hook", false);
        assertPermits(guard, "http://metadata.test/latest/meta-data", false);
        assertPermits(guard, "http://ula.test/hook", false);
        assertPermits(guard, "http://public6.test/hook", true);
        assertPermits(guard, "http://cgnat-metadata.test/latest/meta-data", false);
        assertPermits(guard, "http://nat64-metadata.test/latest/meta-data", false);
        assertPermits(guard, "http://nat64-public.test/hook", true);
    }

    @Test
    void aHostIsRefusedWhenAnyOfItsAddressesIsInternal() {
        assertPermits(guard(List.of()), "http://mixed.test/hook", false);
    }

    @Test
    void ipLiteralsAreCheckedWithoutResolving() {
        TargetGuard guard = guard(List.of());

        assertPermits(guard, "http://127.0.0.1:8080/hook", false);
        assertPermits(guard, "http://[::1]:8080/hook", false);
        assertPermits(guard, "http://169.254.169.254/latest", false);
        assertPermits(guard, "http://100.100.100.200/latest/meta-data", false);
        assertPermits(guard, "http://[64:ff9b::a9fe:a9fe]/latest", false);
        assertPermits(guard, "http://[2002:a9fe:a9fe::1]/latest", false);
        assertPermits(guard, "http://93.184.216.34/hook", true);
    }

    @Test
    void theAllowListAdmitsHostNamesIpLiteralsAndCidrBlocks() {
        TargetGuard guard = guard(List.of("localhost", "127.0.0.1", "10.0.0.0/8", "fd12:3456::/32", " ::1 "));

        assertPermits(guard, "http://LOCALHOST:8080/hook", true);
        assertPermits(guard, "http://127.0.0.1:8080/hook", true);
        assertPermits(guard, "http://127.0.0.2:8080/hook", false);
        assertPermits(guard, "http://10.200.0.1/hook", true);
        assertPermits(guard, "http://private.test/hook", true);
        assertPermits(guard, "http://ula.test/hook", true);
        assertPermits(guard, "http://[::1]/hook", true);
        assertPermits(guard, "http://192.168.1.1/hook", false);
        assertPermits(guard, "http://metadata.test/hook", false);
    }

    @Test
    void aCidrPrefixThatIsNotAByteBoundaryIsHonoured() {
        AllowList list = new AllowList(List.of("172.16.0.0/12"));

        assertThat(list.allows(address("172.31.255.255"))).isTrue();
        assertThat(list.allows(address("172.32.0.0"))).isFalse();
        assertThat(list.allows(address("::ffff:172.20.0.1"))).isTrue();
        assertThat(list.allows(address("fd00::1"))).isFalse();
    }

    @Test
    void aMalformedAllowListEntryIsRejected() {
        assertThatThrownBy(() -> new AllowList(List.of("10.0.0.0/33"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AllowList(List.of("10.0.0.0/x"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AllowList(List.of("999.1.1.1"))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anUnresolvableHostIsLeftToFailAtConnect() {
        assertPermits(guard(List.of()), "http://nowhere.test/hook", true);
    }

    @Test
    void plainHttpGoesOnlyToAllowListedHostsByDefaultWhileHttpsGoesAnywherePublic() {
        TargetGuard guard = FakeDns.guard(new AllowList(List.of("127.0.0.1", "localhost")),
                host -> new InetAddress[] {address("93.184.216.34")}, PlainHttpPolicy.Mode.ALLOW_LISTED);

        assertPermits(guard, "http://hooks.example.com/hook", false);
        assertPermits(guard, "https://hooks.example.com/hook", true);
        assertPermits(guard, "http://127.0.0.1:8080/hook", true);
        assertPermits(guard, "http://localhost:8080/hook", true);
    }

    @Test
    void plainHttpCanBeRefusedEverywhere() {
        TargetGuard guard = FakeDns.guard(new AllowList(List.of("localhost")),
                host -> new InetAddress[] {address("93.184.216.34")}, PlainHttpPolicy.Mode.REFUSED);

        assertPermits(guard, "http://hooks.example.com/hook", false);
        assertPermits(guard, "https://hooks.example.com/hook", true);
        // An allow-listed host is called, but over https only: as api-service's check of the same policy says.
        assertPermits(guard, "http://localhost:8080/hook", false);
        assertPermits(guard, "https://localhost:8443/hook", true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://[fe80::1%25eth0]/x", "https://[fe80::1%25eth0]/x", "http://[fe80::1%eth0]/x",
            "http://[fe80::1%251]/x", "https://[::1%25lo]:8443/x"})
    void anIpv6LiteralWithAZoneIdIsRefusedWithoutThrowing(String url) {
        TargetGuard guard = FakeDns.guard(new AllowList(List.of("127.0.0.1", "fe80::/10", "::1")),
                host -> new InetAddress[] {address("93.184.216.34")}, PlainHttpPolicy.Mode.ALLOW_LISTED);

        assertPermits(guard, url, false);
    }

    @Test
    void atConnectTimeAHostResolvingToAnInternalAddressIsRefused() {
        TargetGuard guard = FakeDns.guard(new AllowList(List.of()),
                host -> new InetAddress[] {address("169.254.169.254")});

        StepVerifier.create(guard.connectable("metadata.test"))
                .expectError(TargetGuard.ForbiddenAddressException.class)
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aHostWhoseNameServerHangsHoldsUpNoOtherHostAndItsLookupsFailWithATimeout() {
        TargetGuard guard = FakeDns.guardAsking(new AllowList(List.of()), host -> host.equals("slow.test")
                ? Mono.never() : Mono.just(new InetAddress[] {address("93.184.216.34")}));
        List<Mono<Boolean>> slow = IntStream.range(0, 500)
                .mapToObj(i -> guard.permits("https://slow.test/hook/" + i).cache())
                .toList();
        slow.forEach(lookup -> lookup.subscribe(permitted -> { }, error -> { }));

        StepVerifier.create(guard.permits("https://fast.test/hook"))
                .expectNext(true)
                .expectComplete()
                .verify(Duration.ofSeconds(3));
        StepVerifier.create(Flux.fromIterable(slow)
                        .flatMap(lookup -> lookup.map(Object.class::cast).onErrorResume(Mono::just))
                        .filter(HostLookups.LookupFailedException.class::isInstance))
                .expectNextCount(slow.size())
                .expectComplete()
                .verify(Duration.ofSeconds(15));
        StepVerifier.create(slow.get(0))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOf(HostLookups.LookupFailedException.class)
                        .hasMessageContaining("slow.test").hasMessageContaining("timed out"))
                .verify(Duration.ofSeconds(5));
    }

    private static TargetGuard guard(List<String> allowed) {
        return FakeDns.guard(new AllowList(allowed), host -> {
            String addresses = DNS.get(host);
            if (addresses == null) {
                throw new UnknownHostException(host);
            }
            String[] parts = addresses.split(",");
            InetAddress[] resolved = new InetAddress[parts.length];
            for (int i = 0; i < parts.length; i++) {
                resolved[i] = InetAddress.getByName(parts[i]);
            }
            return resolved;
        });
    }

    private static void assertPermits(TargetGuard guard, String url, boolean expected) {
        StepVerifier.create(guard.permits(url))
                .assertNext(permitted -> assertThat(permitted).as(url).isEqualTo(expected))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    private static InetAddress address(String literal) {
        return AllowList.literal(literal);
    }
}
