package dev.dialer.api.webhook;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.format.DateTimeFormatter;

/** The webhook resources the API answers with; absent values are written as null, never dropped. */
final class WebhookResponses {

    private WebhookResponses() {
    }

    /** Answer to a create: the only time the secret is shown. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    record Created(@JsonProperty("id") String id,
                   @JsonProperty("url") String url,
                   @JsonProperty("description") String description,
                   @JsonProperty("secret") String secret,
                   @JsonProperty("enabled") boolean enabled,
                   @JsonProperty("created_at") String createdAt) {

        static Created of(Webhook webhook) {
            return new Created(webhook.id(), webhook.url(), webhook.description(), webhook.secret(),
                    webhook.enabled(), DateTimeFormatter.ISO_INSTANT.format(webhook.createdAt()));
        }
    }

    /** A webhook as read back: no secret. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    record View(@JsonProperty("id") String id,
                @JsonProperty("url") String url,
                @JsonProperty("description") String description,
                @JsonProperty("enabled") boolean enabled,
                @JsonProperty("created_at") String createdAt,
                @JsonProperty("updated_at") String updatedAt) {

        static View of(Webhook webhook) {
            return new View(webhook.id(), webhook.url(), webhook.description(), webhook.enabled(),
                    DateTimeFormatter.ISO_INSTANT.format(webhook.createdAt()),
                    DateTimeFormatter.ISO_INSTANT.format(webhook.updatedAt()));
        }
    }
}
