package dev.dialer.common.policy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The time zones of each country (ISO 3166 region), from the IANA tz database's {@code zone.tab}, a copy of which is
 * read once from {@code tz/zone.tab} on the class path (decision 0113). A zone the JDK's own tz data does not know yet
 * is left out: the JDK could not tell its local time.
 */
final class RegionZones {

    private static final String RESOURCE = "/tz/zone.tab";
    private static final Map<String, List<ZoneId>> BY_REGION = read();

    private RegionZones() {
    }

    /** The zones of {@code region} (e.g. {@code US}); empty for a region the table lists none for. */
    static List<ZoneId> of(String region) {
        return region == null ? List.of() : BY_REGION.getOrDefault(region, List.of());
    }

    private static Map<String, List<ZoneId>> read() {
        try (InputStream in = RegionZones.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path");
            }
            return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    /** Rows of country code, coordinates, zone name and comments between tabs; {@code #} starts a comment line. */
    private static Map<String, List<ZoneId>> parse(BufferedReader rows) throws IOException {
        Map<String, List<String>> names = new HashMap<>();
        for (String row = rows.readLine(); row != null; row = rows.readLine()) {
            String[] columns = row.split("\t");
            if (!row.startsWith("#") && columns.length >= 3) {
                names.computeIfAbsent(columns[0], region -> new ArrayList<>()).add(columns[2]);
            }
        }
        Map<String, List<ZoneId>> byRegion = new HashMap<>();
        names.forEach((region, zones) -> byRegion.put(region, List.copyOf(CallingWindows.known(zones))));
        return Map.copyOf(byRegion);
    }
}
