package dev.dialer.standalone;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A secret the local stack keeps in its data folder so that it survives restarts (the demo account's API key, the key
 * hook secrets are derived from). Whoever can read the file can call the API as the demo account or sign hooks, so the
 * file is readable by its owner alone: created so on a POSIX file system (never written first and narrowed after, which
 * would leave it open to others for a moment), and narrowed when a file kept by an earlier version is found wider.
 */
final class KeptSecret {

    private static final Logger log = LoggerFactory.getLogger(KeptSecret.class);
    static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    static final Set<PosixFilePermission> OWNER_ONLY_FOLDER = PosixFilePermissions.fromString("rwx------");

    private KeptSecret() {
    }

    /** The secret kept in {@code file}, made with {@code generated} and kept there if there is none yet. */
    static String in(Path file, Supplier<String> generated) {
        try {
            Files.createDirectories(file.getParent());
            if (!Files.exists(file)) {
                String value = generated.get();
                if (create(file, value)) {
                    return value;
                }
                // Another stack on the same folder created it first: its value is the one kept.
            }
            narrow(file);
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep " + file.getFileName() + " in " + file, e);
        }
    }

    /** Writes a new file with the value; false when the file appeared meanwhile. */
    private static boolean create(Path file, String value) throws IOException {
        FileAttribute<?>[] attributes = posix(file)
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                : new FileAttribute<?>[0];
        Path temporary = Files.createTempFile(file.getParent(), file.getFileName() + ".", ".tmp", attributes);
        try {
            Files.writeString(temporary, value + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
            return named(file, temporary);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /**
     * Gives the written file its name, unless that name exists: a link never replaces an existing file, and the value
     * is whole before the name appears. False when the name exists already.
     */
    private static boolean named(Path file, Path written) throws IOException {
        try {
            Files.createLink(file, written);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (UnsupportedOperationException | IOException noHardLinks) {
            // A file system without hard links: a move, which refuses an existing name as well.
            try {
                Files.move(written, file);
                return true;
            } catch (FileAlreadyExistsException alreadyThere) {
                return false;
            }
        }
    }

    /**
     * Makes {@code folder} (the stack's data folder) its owner's alone, created so or narrowed: Kafka's log segments
     * under it hold every webhook's secret and the SIP credentials commands carry, readable by anyone who can read
     * the folder.
     */
    static void ownerOnlyFolder(Path folder) {
        try {
            if (!Files.exists(folder)) {
                Files.createDirectories(folder.getParent());
                try {
                    Files.createDirectory(folder, posix(folder.getParent())
                            ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY_FOLDER)}
                            : new FileAttribute<?>[0]);
                } catch (FileAlreadyExistsException createdMeanwhile) {
                    // Another stack on the same folder made it first: narrowed below all the same.
                }
            }
            if (posix(folder) && !Files.getPosixFilePermissions(folder).equals(OWNER_ONLY_FOLDER)) {
                Files.setPosixFilePermissions(folder, OWNER_ONLY_FOLDER);
                log.warn("{} was open to others; it is now its owner's alone", folder);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make " + folder + " its owner's alone", e);
        }
    }

    private static void narrow(Path file) throws IOException {
        if (posix(file) && !Files.getPosixFilePermissions(file).equals(OWNER_ONLY)) {
            Files.setPosixFilePermissions(file, OWNER_ONLY);
            log.warn("{} was readable by others; it is now readable by its owner alone", file);
        }
    }

    private static boolean posix(Path file) {
        return file.getFileSystem().supportedFileAttributeViews().contains("posix");
    }
}
