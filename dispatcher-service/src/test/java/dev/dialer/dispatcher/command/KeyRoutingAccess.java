package dev.dialer.dispatcher.command;

/** Lets tests in other packages compute where a caller ID's commands belong. */
public final class KeyRoutingAccess {

    private KeyRoutingAccess() {
    }

    public static int partitionFor(String key, int partitionCount) {
        return KeyRouting.partitionFor(key, partitionCount);
    }
}
