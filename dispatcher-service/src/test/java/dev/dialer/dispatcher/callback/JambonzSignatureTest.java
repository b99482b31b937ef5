package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class JambonzSignatureTest {

    private static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");
    private static final byte[] BODY = """
            {"call_sid":"abc","call_status":"ringing","customerData":{"request_id":"r-1","attempt":1}}"""
            .getBytes(StandardCharsets.UTF_8);

    private final JambonzSignature signature =
            new JambonzSignature("s3cret", Duration.ofMinutes(5), Clock.fixed(NOW, ZoneOffset.UTC));

    @Test
    void acceptsSignatureMadeWithTheSecretOverTimestampAndBody() {
        String header = "t=" + NOW.getEpochSecond() + ",v1=" + hmacHex("s3cret", NOW.getEpochSecond() + ".", BODY);

        assertThat(signature.verify(header, BODY)).isTrue();
    }

    @Test
    void refusesSignatureMadeWithAnotherSecret() {
        String header = "t=" + NOW.getEpochSecond() + ",v1=" + hmacHex("other", NOW.getEpochSecond() + ".", BODY);

        assertThat(signature.verify(header, BODY)).isFalse();
    }

    @Test
    void acceptsASignatureMadeWithAnyOfTheAccountsSecrets() {
        JambonzSignature twoAccounts = new JambonzSignature(List.of("s3cret", "ac2-secret"), Duration.ofMinutes(5),
                Clock.fixed(NOW, ZoneOffset.UTC));
        String prefix = NOW.getEpochSecond() + ".";

        assertThat(twoAccounts.verify("t=" + NOW.getEpochSecond() + ",v1=" + hmacHex("ac2-secret", prefix, BODY),
                BODY)).isTrue();
        assertThat(twoAccounts.verify("t=" + NOW.getEpochSecond() + ",v1=" + hmacHex("s3cret", prefix, BODY), BODY))
                .isTrue();
        assertThat(twoAccounts.verify("t=" + NOW.getEpochSecond() + ",v1=" + hmacHex("other", prefix, BODY), BODY))
                .isFalse();
    }

    @Test
    void refusesTimestampOlderThanTheTolerance() {
        long stale = NOW.minus(Duration.ofMinutes(6)).getEpochSecond();

        assertThat(signature.verify(signature.sign(stale, BODY), BODY)).isFalse();
    }

    @Test
    void acceptsTimestampWithinTheTolerance() {
        long recent = NOW.minus(Duration.ofMinutes(4)).getEpochSecond();

        assertThat(signature.verify(signature.sign(recent, BODY), BODY)).isTrue();
    }

    @Test
    void refusesTimestampFromTheFutureBeyondTheTolerance() {
        long ahead = NOW.plus(Duration.ofMinutes(6)).getEpochSecond();

        assertThat(signature.verify(signature.sign(ahead, BODY), BODY)).isFalse();
    }

    @Test
    void refusesBodyThatWasChangedAfterSigning() {
        String header = signature.sign(NOW.getEpochSecond(), BODY);
        byte[] changed = new String(BODY, StandardCharsets.UTF_8).replace("ringing", "completed")
                .getBytes(StandardCharsets.UTF_8);

        assertThat(signature.verify(header, changed)).isFalse();
    }

    @Test
    void refusesMissingOrMalformedHeader() {
        assertThat(signature.verify(null, BODY)).isFalse();
        assertThat(signature.verify("", BODY)).isFalse();
        assertThat(signature.verify("v1=" + hmacHex("s3cret", NOW.getEpochSecond() + ".", BODY), BODY)).isFalse();
        assertThat(signature.verify("t=" + NOW.getEpochSecond() + ",v1=not-hex", BODY)).isFalse();
        assertThat(signature.verify("t=yesterday,v1=00", BODY)).isFalse();
    }

    @Test
    void acceptsWhenAnyOfSeveralSignaturesMatchesSoSecretsCanRotate() {
        long t = NOW.getEpochSecond();
        String header = "t=" + t + ",v1=" + hmacHex("old", t + ".", BODY) + ",v1=" + hmacHex("s3cret", t + ".", BODY);

        assertThat(signature.verify(header, BODY)).isTrue();
    }

    private static String hmacHex(String secret, String prefix, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update(prefix.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(mac.doFinal(body));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
