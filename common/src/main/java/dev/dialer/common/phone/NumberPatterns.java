package dev.dialer.common.phone;

import dk.brics.automaton.RegExp;
import dk.brics.automaton.RunAutomaton;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * libphonenumber's national number patterns, each matched against a whole string of digits by a deterministic
 * automaton compiled once: one table step per digit, where {@link Pattern} backtracks through the long alternations
 * of prefixes a region's mobile and fixed-line patterns are. A pattern uses only digits, {@code \d}, character
 * classes, non-capturing groups, alternation and counted repetition, all of which the automaton library reads with the
 * same meaning (its syntax without extensions, {@code \d} written as a class). A pattern with anything else is matched
 * by {@link Pattern} as before, so the answer is libphonenumber's in every case; {@code NumberPatternsTest} checks
 * that the two agree on every region's patterns.
 */
final class NumberPatterns {

    private static final Map<String, Predicate<String>> COMPILED = new ConcurrentHashMap<>();

    private NumberPatterns() {
    }

    /** Whether {@code digits} as a whole match {@code regex}, as {@code Pattern.compile(regex).matcher(digits).matches()}. */
    static boolean matchesWhole(String regex, String digits) {
        return COMPILED.computeIfAbsent(regex, NumberPatterns::compile).test(digits);
    }

    /** Whether {@code regex} runs as an automaton (the others run as {@link Pattern}). */
    static boolean runsAsAutomaton(String regex) {
        return automatonSyntax(regex) != null;
    }

    private static Predicate<String> compile(String regex) {
        String syntax = automatonSyntax(regex);
        if (syntax != null) {
            try {
                RunAutomaton automaton = new RunAutomaton(new RegExp(syntax, RegExp.NONE).toAutomaton());
                return automaton::run;
            } catch (IllegalArgumentException unreadable) {
                // Read by Pattern below.
            }
        }
        Pattern pattern = Pattern.compile(regex);
        return digits -> pattern.matcher(digits).matches();
    }

    /**
     * {@code regex} in the automaton library's syntax, or null when it uses a construct outside those both read alike
     * (any escape but {@code \d}, a group other than {@code (?:…)}, possessive quantifiers, anchors, dots, …).
     */
    static String automatonSyntax(String regex) {
        StringBuilder syntax = new StringBuilder(regex.length() + 16);
        boolean inClass = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\') {
                if (i + 1 < regex.length() && regex.charAt(i + 1) == 'd') {
                    syntax.append(inClass ? "0-9" : "[0-9]");
                    i++;
                    continue;
                }
                return null;
            }
            if (inClass) {
                if (c == ']') {
                    inClass = false;
                } else if (!(c >= '0' && c <= '9') && c != '-') {
                    return null;
                }
                syntax.append(c);
                continue;
            }
            if (c == '(') {
                if (!regex.startsWith("(?:", i)) {
                    return null;
                }
                syntax.append('(');
                i += 2;
                continue;
            }
            if ((c == '?' || c == '*' || c == '+' || c == '}') && i + 1 < regex.length()
                    && (regex.charAt(i + 1) == '+' || regex.charAt(i + 1) == '?')) {
                // A possessive or reluctant quantifier: not read alike (a reluctant one would be, but is never used).
                return null;
            }
            if (c == '[') {
                if (i + 1 < regex.length() && regex.charAt(i + 1) == '^') {
                    return null;
                }
                inClass = true;
            } else if (!(c >= '0' && c <= '9') && "|?*+{},()".indexOf(c) < 0) {
                return null;
            }
            syntax.append(c);
        }
        return inClass ? null : syntax.toString();
    }
}
