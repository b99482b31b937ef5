package dev.dialer.api.openapi;

import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.problem.Problems;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.examples.Example;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.info.License;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.JsonSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.oas.models.servers.Server;
import io.swagger.v3.oas.models.tags.Tag;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI 3.1 document ({@code /v3/api-docs}, Swagger UI at {@code /swagger-ui.html}): the API's description,
 * the Bearer scheme, the RFC 9457 problem schema and the problem responses operations share (a 413 is each
 * operation's own, saying its endpoint's limit). The
 * customizer also gives any operation that was not annotated the basics (a summary, a tag description, the 401 and
 * the 429 every request can get), so
 * every public endpoint is documented and the document stays lint-clean as endpoints are added.
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

    private static final String PROBLEM_JSON = "application/problem+json";
    private static final String PROBLEM = "Problem";
    private static final String FIELD_PROBLEM = "FieldProblem";

    /** Known tags and what they group; a tag the scan finds without a description gets a generic one. */
    private static final Map<String, String> TAGS = tags();

    @Bean
    OpenAPI dialerOpenApi() {
        return new OpenAPI()
                .info(new Info().title("dialer API").version("v2")
                        .description("""
                                Send single and bulk outbound calls (the `outgoing/send` dialect and the Voice \
                                Gateway `Calls` dialect), follow them through signed webhooks, and manage webhooks, \
                                subscriptions, the delivery log and replays. Every error is an RFC 9457 \
                                `application/problem+json` document naming the field; a 2xx on a write means Kafka \
                                has the record (`acks=all`).""")
                        .license(new License().name("Apache-2.0").identifier("Apache-2.0")))
                .servers(List.of(new Server().url("/").description("This api-service")))
                .components(new Components()
                        .addSecuritySchemes(ApiDocs.BEARER, new SecurityScheme().type(SecurityScheme.Type.HTTP)
                                .scheme("bearer").description("An API key (`dk_…`): `Authorization: Bearer <key>`"))
                        .addSchemas(FIELD_PROBLEM, fieldProblemSchema())
                        .addSchemas(PROBLEM, problemSchema())
                        .responses(problemResponses()))
                .addSecurityItem(new SecurityRequirement().addList(ApiDocs.BEARER));
    }

    @Bean
    OpenApiCustomizer dialerDefaults() {
        return openApi -> {
            if (openApi.getPaths() != null) {
                openApi.getPaths().forEach((path, item) -> item.readOperations()
                        .forEach(operation -> completeOperation(operation)));
            }
            describeTags(openApi);
            if (openApi.getComponents() != null && openApi.getComponents().getSchemas() != null) {
                openApi.getComponents().getSchemas().values().forEach(schema -> {
                    integerEnums(schema);
                    nullableReferences(schema);
                });
            }
        };
    }

    /**
     * An annotation's {@code allowableValues} are strings whatever the property's type: an integer property's are
     * written as the integers they are.
     */
    @SuppressWarnings({"rawtypes", "unchecked"})
    static void integerEnums(Schema<?> schema) {
        if (schema.getProperties() == null) {
            return;
        }
        for (Schema property : schema.getProperties().values()) {
            boolean integer = "integer".equals(property.getType())
                    || (property.getTypes() != null && property.getTypes().contains("integer"));
            if (integer && property.getEnum() != null) {
                List<Object> values = ((List<Object>) property.getEnum()).stream()
                        .map(value -> (Object) Integer.valueOf(value.toString())).toList();
                property.setEnum(new java.util.ArrayList<>(values));
            }
        }
    }

    /**
     * A property that refers to another schema and may be null is annotated {@code types = {"object", "null"}}, which
     * the generator writes beside its {@code $ref}; in OpenAPI 3.1 both apply, and the referenced object's own type
     * refuses the null. Such a property is written as one of the reference and null.
     */
    @SuppressWarnings({"rawtypes", "unchecked"})
    static void nullableReferences(Schema<?> schema) {
        if (schema.getProperties() == null) {
            return;
        }
        schema.getProperties().replaceAll((name, property) -> {
            if (property.get$ref() == null || property.getTypes() == null || !property.getTypes().contains("null")) {
                return property;
            }
            Schema nullable = new JsonSchema().oneOf(List.of(new JsonSchema().$ref(property.get$ref()),
                    new JsonSchema().types(new java.util.LinkedHashSet<>(List.of("null")))));
            nullable.setDescription(property.getDescription());
            return nullable;
        });
    }

    private static void completeOperation(Operation operation) {
        if (operation.getSummary() == null || operation.getSummary().isBlank()) {
            operation.setSummary(humanize(operation.getOperationId()));
        }
        ApiResponses responses = operation.getResponses() == null ? new ApiResponses() : operation.getResponses();
        responses.computeIfAbsent("401", code -> new ApiResponse().$ref(ApiDocs.UNAUTHORIZED));
        responses.computeIfAbsent("429", code -> new ApiResponse().$ref(ApiDocs.TOO_MANY_REQUESTS));
        responses.computeIfAbsent("500", code -> new ApiResponse().$ref("#/components/responses/Internal"));
        // Every request's API key may have to be looked up in the database.
        responses.computeIfAbsent("503", code -> new ApiResponse().$ref(ApiDocs.UNAVAILABLE));
        operation.setResponses(responses);
    }

    private static void describeTags(OpenAPI openApi) {
        Map<String, Tag> tags = new LinkedHashMap<>();
        if (openApi.getTags() != null) {
            openApi.getTags().forEach(tag -> tags.put(tag.getName(), tag));
        }
        if (openApi.getPaths() != null) {
            openApi.getPaths().values().stream().map(PathItem::readOperations).flatMap(List::stream)
                    .filter(operation -> operation.getTags() != null)
                    .flatMap(operation -> operation.getTags().stream())
                    .forEach(name -> tags.computeIfAbsent(name, unknown -> new Tag().name(unknown)));
        }
        tags.values().forEach(tag -> {
            if (tag.getDescription() == null || tag.getDescription().isBlank()) {
                tag.setDescription(TAGS.getOrDefault(tag.getName(), "Endpoints of " + humanize(tag.getName())));
            }
        });
        openApi.setTags(tags.values().stream().sorted((a, b) -> a.getName().compareTo(b.getName())).toList());
    }

    /** {@code listWebhooks} or {@code calls-controller} becomes "List webhooks" / "Calls controller". */
    static String humanize(String identifier) {
        if (identifier == null || identifier.isBlank()) {
            return "Operation";
        }
        String words = identifier.replaceAll("_\\d+$", "").replaceAll("([a-z0-9])([A-Z])", "$1 $2")
                .replace('-', ' ').replace('_', ' ').toLowerCase(Locale.ROOT).strip();
        return Character.toUpperCase(words.charAt(0)) + words.substring(1);
    }

    private static Map<String, String> tags() {
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put("send", "Queue outbound calls: the `outgoing/send` dialect, one or many recipients");
        tags.put("voice-gateway", "Queue one outbound call, written the way the Voice Gateway (jambonz) API takes it");
        tags.put("webhooks", "Endpoints that receive the calls' events, signed with Standard Webhooks");
        tags.put("subscriptions", "Which event types of the account go to which webhook, without naming a "
                + "`webhook_id` in every request");
        tags.put("deliveries", "The log of every delivery attempt to a webhook, and replays");
        return Map.copyOf(tags);
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private static Schema<?> problemSchema() {
        Map<String, Schema> properties = new LinkedHashMap<>();
        properties.put("type", new Schema<>().types(java.util.Set.of("string")).format("uri")
                .description("Stable problem type; clients may switch on it")
                .example("https://dialer.dev/problems/validation"));
        properties.put("title", new Schema<>().types(java.util.Set.of("string")).example("Invalid request"));
        properties.put("status", new Schema<>().types(java.util.Set.of("integer")).format("int32").example(400));
        properties.put("detail", new Schema<>().types(java.util.Set.of("string")).example("url must be an absolute "
                + "http:// or https:// URL"));
        properties.put("instance", new Schema<>().types(java.util.Set.of("string")).format("uri-reference")
                .example("/api/v2/webhooks"));
        properties.put("errors", new Schema<>().types(java.util.Set.of("array"))
                .items(new Schema<>().$ref(ApiDocs.FIELD_PROBLEM))
                .description("The invalid fields, when the problem is about fields: the first "
                        + Problems.MAX_LISTED_ERRORS + " found"));
        properties.put(Problems.ERRORS_OMITTED, new Schema<>().types(java.util.Set.of("integer")).format("int32")
                .description("How many more fields are invalid than `errors` lists; absent when it lists them all")
                .example(120));
        return new Schema<>().types(java.util.Set.of("object"))
                .description("RFC 9457 problem details")
                .properties(properties)
                .required(List.of("type", "title", "status"));
    }

    @SuppressWarnings({"rawtypes"})
    private static Schema<?> fieldProblemSchema() {
        Map<String, Schema> properties = new LinkedHashMap<>();
        properties.put("field", new Schema<>().types(java.util.Set.of("string")).example("to[1]")
                .description("The field as the request named it"));
        properties.put("message", new Schema<>().types(java.util.Set.of("string"))
                .example("is not a valid number for region IN"));
        return new Schema<>().types(java.util.Set.of("object")).properties(properties)
                .required(List.of("field", "message"));
    }

    private static Map<String, ApiResponse> problemResponses() {
        Map<String, ApiResponse> responses = new LinkedHashMap<>();
        responses.put("BadRequest", problem("Invalid or malformed request; `errors` names each bad field",
                "validation", 400, "Invalid request", "url must be an absolute http:// or https:// URL"));
        responses.put("Unauthorized", problem("No API key, or one that is not valid", "unauthorized", 401,
                "Unauthorized", "Send the API key as 'Authorization: Bearer <key>'."));
        responses.put("Forbidden", problem("The account may not use this value of the field: a caller ID outside "
                + "its `allowed_caller_ids`, a flow outside its `allowed_flow_ids`; `errors` names the field",
                "forbidden", 403, "Forbidden",
                "bridge is not one of this account's allowed caller IDs"));
        responses.put("NotFound", problem("No such object in this account (another account's objects are not "
                + "found either)", "not-found", 404, "Not found", "No webhook 5f0c1a9e in this account."));
        responses.put("Conflict", problem("The request conflicts with an earlier one", "idempotency-conflict", 409,
                "Idempotency key reused", "Idempotency-Key 'order-4711' was used with a different body in the last "
                        + "24 hours."));
        responses.put("CallAlreadyFinal", problem("The call already ended; `final_status` says how",
                "call-already-final", 409, "Call already final",
                "Call 01a22e78-d0eb-718f-aff1-ac2455a00000 already ended: answered."));
        responses.put("CampaignCanceled", problem("A canceled campaign stays canceled: it cannot be paused or "
                + "resumed", "campaign-canceled", 409, "Campaign canceled",
                "Campaign spring_sale was canceled; a canceled campaign cannot be paused or resumed."));
        responses.put("LimitReached", problem("The account already keeps the most it may of these, or the change "
                + "would take it past that (`dialer.api.limits`: 100 webhooks, 100 subscriptions and 1,000,000 numbers "
                + "on the DNC list by default); `limit` says how many. Nothing was added", "limit-reached", 409,
                "Limit reached",
                "This account already has 100 webhooks, the most it may keep; delete one first."));
        responses.put("TooManyRequests", problem("The account's request rate is exceeded, or this address sent too "
                + "many requests with a key that is not valid; retry after `Retry-After` seconds", "rate-limited", 429,
                "Too many requests", "This account's request rate is exceeded; retry in 1 s.")
                .addHeaderObject("Retry-After", retryAfter()));
        responses.put("Unavailable", problem("Kafka did not acknowledge in time, the request failed after Kafka "
                + "had its records, the database could not be reached, or the service (or the account's sends) held "
                + "as many records waiting for Kafka as it takes; retry after `Retry-After` seconds. The "
                + "`detail` says what became of the request: nothing of it was queued this time (the last case; an "
                + "earlier try under the same `Idempotency-Key` may have queued calls, and the detail then says so); "
                + "a send may have been queued (retry it with the same "
                + "`Idempotency-Key`); a create or change of a webhook or subscription, a change of the settings or "
                + "the DNC list, a pause or resume did not take effect; a cancel may still take effect (a "
                + "campaign's stays canceled) and is safe to repeat", "unavailable", 503, "Service unavailable",
                AcknowledgedPublisher.notAcknowledged(Duration.ofSeconds(10)))
                .addHeaderObject("Retry-After", retryAfter()));
        responses.put("Internal", problem("A failure on our side; safe to retry", "internal", 500,
                "Internal error", "The request failed on our side; it is safe to retry."));
        return responses;
    }

    private static io.swagger.v3.oas.models.headers.Header retryAfter() {
        return new io.swagger.v3.oas.models.headers.Header()
                .description("Seconds to wait before retrying")
                .schema(new Schema<>().types(java.util.Set.of("integer")));
    }

    private static ApiResponse problem(String description, String type, int status, String title, String detail) {
        Map<String, Object> example = new LinkedHashMap<>();
        example.put("type", "https://dialer.dev/problems/" + type);
        example.put("title", title);
        example.put("status", status);
        example.put("detail", detail);
        return new ApiResponse().description(description).content(new Content().addMediaType(PROBLEM_JSON,
                new MediaType().schema(new Schema<>().$ref("#/components/schemas/" + PROBLEM))
                        .addExamples(type, new Example().summary(title).value(example))));
    }
}
