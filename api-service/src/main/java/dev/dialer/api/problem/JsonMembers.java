package dev.dialer.api.problem;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.TokenStreamContext;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON reading of the bodies whose fields a problem names (the send dialects', the DNC list's, the management
 * endpoints' through {@link JsonBodies}), where a body refused for one of its members names that member, as any field
 * problem does, rather than being malformed as a whole. A member given twice in one object is refused
 * ({@link StreamReadFeature#STRICT_DUPLICATE_DETECTION}): Jackson would keep the last one silently, and
 * {@code {"to":"…215","to":"…216"}} would queue one call and say nothing of the other. A number longer than Jackson
 * reads ({@code StreamReadConstraints.getMaxNumberLength()}, 1,000 characters) is no number any field takes: it is
 * named too, as too large, rather than answered with Jackson's message about its own settings.
 */
public final class JsonMembers {

    public static final String GIVEN_TWICE = "is given more than once";
    public static final String TOO_LARGE = "is too large";
    /** What the detail of a body that is not JSON at all begins with; the parser's message follows. */
    public static final String NOT_VALID_JSON = "The body is not valid JSON: ";

    private JsonMembers() {
    }

    /**
     * Names each member of {@code object} that is not one of {@code known}, in name order, as {@code prefix} and its
     * name with {@code message}: a member the endpoint does not read is refused, not dropped.
     */
    public static void refuseUnknown(JsonNode object, Set<String> known, String prefix, String message,
                                     List<FieldProblem> errors) {
        object.propertyNames().stream().filter(name -> !known.contains(name)).sorted()
                .forEach(name -> errors.add(new FieldProblem(prefix + name, message)));
    }

    /** A mapper that refuses a member given twice in one object. */
    public static JsonMapper mapper() {
        return JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    }

    /**
     * {@link #mapper()}, also refusing objects and arrays nested more than {@code maxDepth} deep (the body's own
     * object is one), for a body whose free-form members travel on inside a record: Jackson writes no deeper than it
     * reads, so a body read at its limit could not be written once wrapped. {@link #problem} names the member where
     * the nesting goes too deep.
     */
    public static JsonMapper mapper(int maxDepth) {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(maxDepth).build())
                .build();
        return JsonMapper.builder(factory).enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    }

    /**
     * The problem of a body {@code mapper} could not read: the validation problem naming the member {@code error} is
     * about, or, when it is about the body as a whole (its syntax), a malformed body whose detail is {@code malformed}
     * followed by the parser's message.
     *
     * @param mapper    the mapper that read {@code text} and failed with {@code error}
     * @param root      the name of the body itself, prefixing every field ({@code rows} names a DNC import's array:
     *                  {@code rows[3].number}); empty for a body that is not named
     * @param keyed     the body's members whose own members are named {@code name[key]}, as the send API names
     *                  {@code variables[Name]}; any other is {@code name.key}, and an array's element {@code name[i]}
     * @param malformed the detail's beginning for a body that is not JSON at all ({@link #NOT_VALID_JSON})
     */
    public static ApiProblem problem(JsonMapper mapper, String text, JacksonException error, String root,
                                     Set<String> keyed, String malformed) {
        String message = error.getOriginalMessage() == null ? "" : error.getOriginalMessage();
        if (error instanceof StreamReadException read && read.processor() != null
                && message.startsWith("Duplicate Object property")) {
            return Problems.validation(field(read.processor().streamReadContext(), root, keyed), GIVEN_TWICE);
        }
        if (error instanceof StreamConstraintsException && (message.startsWith("Number value length")
                || message.startsWith("Document nesting depth"))) {
            // The exception holds no parser: the body is read again, token by token, to where it stops.
            String field = whereReadingStops(mapper, text, root, keyed);
            if (field != null) {
                return Problems.validation(field, message.startsWith("Number") ? TOO_LARGE : "is nested more than "
                        + mapper.tokenStreamFactory().streamReadConstraints().getMaxNestingDepth()
                        + " levels deep, counting the body");
            }
        }
        return Problems.malformed(malformed + error.getOriginalMessage());
    }

    /** The member a token-by-token reading of {@code text} stops at for a constraint, or null if it does not. */
    private static String whereReadingStops(JsonMapper mapper, String text, String root, Set<String> keyed) {
        try (JsonParser parser = mapper.createParser(text)) {
            try {
                while (parser.nextToken() != null) {
                    // read on to the token that breaks the constraint
                }
            } catch (StreamConstraintsException e) {
                return field(parser.streamReadContext(), root, keyed);
            }
        } catch (JacksonException e) {
            // any other failure: not the member looked for
        }
        return null;
    }

    /** The name of the member {@code context} stands at, from the body ({@code root}, when it is named) down. */
    static String field(TokenStreamContext context, String root, Set<String> keyed) {
        Deque<Object> path = new ArrayDeque<>();
        for (TokenStreamContext at = context; at != null && !at.inRoot(); at = at.getParent()) {
            path.push(at.inArray() ? (Object) at.getCurrentIndex() : String.valueOf(at.currentName()));
        }
        StringBuilder field = new StringBuilder(root);
        int depth = root.isEmpty() ? 0 : 1;
        for (Object segment : path) {
            if (segment instanceof Integer index) {
                field.append('[').append(index).append(']');
            } else if (depth == 0) {
                field.append(segment);
            } else if (depth == 1 && keyed.contains(field.toString())) {
                field.append('[').append(segment).append(']');
            } else {
                field.append('.').append(segment);
            }
            depth++;
        }
        return field.toString();
    }
}
