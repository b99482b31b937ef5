package dev.dialer.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeptSecretTest {

    @TempDir
    Path dir;

    @Test
    void aNewSecretIsReadableByItsOwnerAlone() throws Exception {
        Path file = dir.resolve("data").resolve("hook-signing-key");

        String value = KeptSecret.in(file, () -> "whsec_new");

        assertThat(value).isEqualTo("whsec_new");
        assertThat(Files.readString(file)).isEqualTo("whsec_new\n");
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(KeptSecret.OWNER_ONLY);
        try (var left = Files.list(file.getParent())) {
            assertThat(left).containsExactly(file);
        }
    }

    @Test
    void aKeptSecretIsReadAgainNotMadeAgain() {
        Path file = dir.resolve("demo-api-key");
        AtomicInteger made = new AtomicInteger();

        String first = KeptSecret.in(file, () -> "dk_" + made.incrementAndGet());
        String second = KeptSecret.in(file, () -> "dk_" + made.incrementAndGet());

        assertThat(first).isEqualTo("dk_1");
        assertThat(second).isEqualTo("dk_1");
        assertThat(made).hasValue(1);
    }

    @Test
    void aSecretKeptOpenToOthersIsNarrowed() throws Exception {
        Path file = dir.resolve("demo-api-key");
        Files.writeString(file, "dk_old\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

        assertThat(KeptSecret.in(file, () -> "dk_new")).isEqualTo("dk_old");
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(KeptSecret.OWNER_ONLY);
    }

    @Test
    void theDataFolderIsItsOwnersAloneMadeSoOrNarrowed() throws Exception {
        Path made = dir.resolve("parent").resolve("dialer-data");
        KeptSecret.ownerOnlyFolder(made);
        assertThat(Files.getPosixFilePermissions(made)).isEqualTo(KeptSecret.OWNER_ONLY_FOLDER);

        Path open = Files.createDirectory(dir.resolve("open"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        KeptSecret.ownerOnlyFolder(open);
        assertThat(Files.getPosixFilePermissions(open)).isEqualTo(KeptSecret.OWNER_ONLY_FOLDER);
    }
}
