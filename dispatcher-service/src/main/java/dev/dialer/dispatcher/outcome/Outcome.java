package dev.dialer.dispatcher.outcome;

import dev.dialer.common.contract.AttemptStatus;

/**
 * How an attempt ended.
 *
 * @param verdict       what it means for the request
 * @param attemptStatus the terminal status to report for the attempt (a 603 is reported as {@code busy} even when
 *                      the carrier said {@code failed})
 */
public record Outcome(Verdict verdict, AttemptStatus attemptStatus) {
}
