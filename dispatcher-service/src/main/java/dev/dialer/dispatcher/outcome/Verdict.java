package dev.dialer.dispatcher.outcome;

/** What an ended attempt means for its request (ARCHITECTURE.md §4). */
public enum Verdict {
    /** The callee answered: the request is {@code answered}. */
    ANSWERED,
    /** Busy, no answer or a transient failure: worth another attempt under the request's interval. */
    RETRYABLE,
    /** The callee declined (603): reported as busy and never redialled. */
    DECLINED,
    /** The number cannot be reached (404, 484, 410, 604): the request is {@code failed}. */
    UNREACHABLE,
    /** The carrier had no room (503 "… Calls In Progress", 403 channel limit, 429): not an attempt at all. */
    CAPACITY,
    /** The attempt was cancelled. */
    CANCELED
}
