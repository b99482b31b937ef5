package dev.dialer.infra;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The metric names the alert rules and the dashboard read, and those a service's Prometheus scrape exports: each
 * service's tests check that the first are among the second, so a renamed or misspelled metric fails a build rather
 * than leave an alert that never fires or a panel that stays empty. Paths are from a module's directory.
 */
public final class MonitoredMetrics {

    /** The files that read the services' metrics. */
    public static final List<Path> FILES = List.of(
            Path.of("..", "deploy", "prometheus", "alerts.yml"),
            Path.of("..", "deploy", "grafana", "dashboards", "dialer.json"));
    /** A sample line of the text format: its name, then labels or the value. */
    private static final Pattern SAMPLE = Pattern.compile("^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]", Pattern.MULTILINE);

    private MonitoredMetrics() {
    }

    /** The metric names {@link #FILES} use that start with one of {@code prefixes}. */
    public static Set<String> referenced(List<String> prefixes) throws IOException {
        Pattern name = Pattern.compile("(?<![A-Za-z0-9_:])(?:" + prefixes.stream().map(Pattern::quote)
                .collect(Collectors.joining("|")) + ")[A-Za-z0-9_]+");
        Set<String> names = new TreeSet<>();
        for (Path file : FILES) {
            Matcher matcher = name.matcher(Files.readString(file));
            while (matcher.find()) {
                names.add(matcher.group());
            }
        }
        return names;
    }

    /** The metric names a scrape (Prometheus text format) has samples of. */
    public static Set<String> exported(String scrape) {
        Set<String> names = new TreeSet<>();
        Matcher matcher = SAMPLE.matcher(scrape);
        while (matcher.find()) {
            names.add(matcher.group(1));
        }
        return names;
    }
}
