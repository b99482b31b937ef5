package dev.dialer.dispatcher.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU time of the machine's PostgreSQL servers, read from {@code /proc}: each postmaster's own time and that of
 * the children it has reaped, plus its live children's (the connections' backends, the writer, the WAL writer). The
 * embedded server runs in processes of its own, so no JVM's CPU time counts it. Meant for a benchmark alone on its
 * machine: another PostgreSQL running beside it would be counted too. Zero where there is no {@code /proc}.
 */
final class PostgresCpu {

    private static final long NANOS_PER_TICK = 10_000_000L; // USER_HZ is 100 on Linux

    private PostgresCpu() {
    }

    static long nanos() {
        long ticks = 0;
        for (ProcessHandle process : ProcessHandle.allProcesses().toList()) {
            if (!isPostgres(process) || process.parent().map(PostgresCpu::isPostgres).orElse(false)) {
                continue;
            }
            ticks += ticks(process.pid(), true);
            for (ProcessHandle child : process.children().toList()) {
                ticks += ticks(child.pid(), false);
            }
        }
        return ticks * NANOS_PER_TICK;
    }

    private static boolean isPostgres(ProcessHandle process) {
        return process.info().command().map(command -> command.endsWith("/postgres")).orElse(false);
    }

    /** utime + stime, and the reaped children's cutime + cstime when asked (fields 14–17 of {@code stat}). */
    private static long ticks(long pid, boolean withReaped) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // The command name, in parentheses, may hold spaces: count fields after its closing one.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return withReaped ? ticks + Long.parseLong(fields[13]) + Long.parseLong(fields[14]) : ticks;
        } catch (IOException | RuntimeException gone) {
            return 0;
        }
    }
}
