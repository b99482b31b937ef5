package dev.dialer.common.hook;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Hosts and addresses that may be called although webhook-service's target guard would refuse them, and that may be
 * called over plain http ({@link PlainHttpPolicy}): host names (matched case-insensitively against the URL's host), IP
 * literals and CIDR blocks (matched against every address the host resolves to), IPv4 and IPv6 alike. Parsing never
 * touches DNS: an entry that is not an IP literal is a host name.
 */
public final class AllowList {

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private final Set<String> hosts = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    private final List<CidrBlock> blocks = new ArrayList<>();

    /** @throws IllegalArgumentException for an entry that looks like an address or CIDR but is not a valid one */
    public AllowList(List<String> entries) {
        for (String raw : entries) {
            String entry = raw.trim();
            if (entry.isEmpty()) {
                continue;
            }
            if (entry.contains("/")) {
                blocks.add(CidrBlock.parse(entry));
            } else if (isLiteral(entry)) {
                InetAddress address = literal(entry);
                blocks.add(new CidrBlock(address.getAddress(), address.getAddress().length * 8));
            } else {
                hosts.add(entry.toLowerCase(Locale.ROOT));
            }
        }
    }

    public boolean allowsHost(String host) {
        return hosts.contains(host);
    }

    public boolean allows(InetAddress address) {
        byte[] bytes = address.getAddress();
        return blocks.stream().anyMatch(block -> block.contains(bytes));
    }

    public static boolean isLiteral(String host) {
        return IPV4.matcher(host).matches() || host.contains(":");
    }

    /** The address of an IP literal, without any DNS lookup. */
    public static InetAddress literal(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (!isLiteral(bare) || IPV4.matcher(bare).matches() && !octetsInRange(bare)) {
            // Checked here because getByName would fall back to a DNS lookup for a malformed dotted quad.
            throw new IllegalArgumentException("not an IP literal: " + host);
        }
        try {
            // getByName does not resolve a literal; it only parses it.
            return InetAddress.getByName(bare);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP literal: " + host, e);
        }
    }

    private static boolean octetsInRange(String dottedQuad) {
        for (String octet : dottedQuad.split("\\.")) {
            if (Integer.parseInt(octet) > 255) {
                return false;
            }
        }
        return true;
    }
}
