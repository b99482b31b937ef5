package dev.dialer.common.hook;

/**
 * An IPv4 or IPv6 network written as a CIDR block ({@code 10.0.0.0/8}, {@code fc00::/7}): what the {@link AllowList}
 * admits and what webhook-service's target guard refuses.
 */
public record CidrBlock(byte[] network, int prefix) {

    /** @throws IllegalArgumentException when the address or the prefix is not valid */
    public static CidrBlock parse(String cidr) {
        int slash = cidr.indexOf('/');
        byte[] network = AllowList.literal(cidr.substring(0, slash)).getAddress();
        int prefix;
        try {
            prefix = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad CIDR prefix: " + cidr, e);
        }
        if (prefix < 0 || prefix > network.length * 8) {
            throw new IllegalArgumentException("bad CIDR prefix: " + cidr);
        }
        return new CidrBlock(network, prefix);
    }

    /** Whether the address (4 or 16 bytes) is in this network; an address of the other family never is. */
    public boolean contains(byte[] address) {
        if (address.length != network.length) {
            return false;
        }
        int fullBytes = prefix / 8;
        for (int i = 0; i < fullBytes; i++) {
            if (address[i] != network[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = 0xFF << (8 - rest) & 0xFF;
        return (address[fullBytes] & mask) == (network[fullBytes] & mask);
    }
}
