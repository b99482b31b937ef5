package dev.dialer.dispatcher.carrier.routing;

import dev.dialer.common.contract.CallCommand;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which carriers to try for a command, in order. The first rule that matches decides:
 * <ol>
 *   <li>{@code carrier_options.trunk} naming a configured carrier: that carrier, then the rest of the default order
 *       (a trunk that names something else is the carrier's own business and passes through to it);</li>
 *   <li>the account's own list;</li>
 *   <li>the longest number prefix of the callee;</li>
 *   <li>the default order.</li>
 * </ol>
 */
final class RouteTable {

    private final CarrierRoutingProperties properties;
    private final Set<String> known;

    RouteTable(CarrierRoutingProperties properties, Set<String> known) {
        this.properties = properties;
        this.known = known;
    }

    List<String> route(CallCommand command) {
        Object trunk = command.carrierOptions().get("trunk");
        if (trunk instanceof String name && known.contains(name)) {
            List<String> order = new ArrayList<>();
            order.add(name);
            properties.order().stream().filter(other -> !other.equals(name)).forEach(order::add);
            return order;
        }
        List<String> byAccount = properties.accounts().get(command.accountId());
        if (byAccount != null && !byAccount.isEmpty()) {
            return byAccount;
        }
        return longestPrefix(command.to()).orElse(properties.order());
    }

    /** The carriers tried, in order, where no rule matches. */
    List<String> defaultOrder() {
        return properties.order();
    }

    private Optional<List<String>> longestPrefix(String number) {
        return properties.prefixes().entrySet().stream()
                .filter(entry -> number.startsWith(entry.getKey()) && !entry.getValue().isEmpty())
                .max(Map.Entry.comparingByKey(Comparator.comparingInt(String::length)))
                .map(Map.Entry::getValue);
    }
}
