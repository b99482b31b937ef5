package dev.dialer.api.control;

import dev.dialer.api.account.Account;
import dev.dialer.api.openapi.ApiDocs;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.contract.CallControl;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * {@code DELETE /api/v2/calls/{id}} and {@code POST /api/v2/campaigns/{name}/cancel|pause|resume}: 202 with the
 * control's id once Kafka acknowledged it. Another account's call or campaign is a 404.
 */
@RestController
class ControlController {

    private static final String CANCEL_OUTCOME = "The outcome follows as the call's events: a `call.final` with "
            + "status `canceled`, or a `call.cancel_rejected` (reason `too_late`, status `in-progress` or the final "
            + "status) when the cancel came too late: the call had ended, or it was answered (an answered call is "
            + "never hung up on; it ends as answered calls end).";

    private final CallControls controls;

    ControlController(CallControls controls) {
        this.controls = controls;
    }

    @DeleteMapping(path = "/api/v2/calls/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
    @Operation(summary = "Cancel a call", description = "Answers 202 once the cancel is durable in Kafka. "
            + CANCEL_OUTCOME + " A 503 means the cancel may still take effect: repeat it until it is answered 202.")
    @ApiResponse(responseCode = "202", description = "The cancel is in Kafka", content = @Content(
            mediaType = MediaType.APPLICATION_JSON_VALUE,
            schema = @Schema(implementation = ControlDocs.CallCancel.class)))
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    @ApiResponse(responseCode = "409", ref = ApiDocs.CALL_ALREADY_FINAL)
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<ResponseEntity<Map<String, Object>>> cancel(@RequestAttribute(Account.ATTRIBUTE) Account account,
                                                     @PathVariable String id) {
        return controls.cancelCall(account, id).map(ControlController::accepted);
    }

    @PostMapping(path = "/api/v2/campaigns/{name}/{action:cancel|pause|resume}",
            produces = MediaType.APPLICATION_JSON_VALUE)
    @Operation(summary = "Cancel, pause or resume a campaign", description = "Answers 202 once the control is "
            + "durable in Kafka. A cancel reaches every call of the campaign accepted before it. " + CANCEL_OUTCOME
            + " A pause or resume answered 503 did not take effect. A cancel answered 503 leaves the campaign "
            + "canceled (a pause or resume is refused from then on) but may not have reached the dialer: repeat it "
            + "until it is answered 202.")
    @ApiResponse(responseCode = "202", description = "The control is in Kafka", content = @Content(
            mediaType = MediaType.APPLICATION_JSON_VALUE,
            schema = @Schema(implementation = ControlDocs.CampaignControl.class)))
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    @ApiResponse(responseCode = "409", ref = ApiDocs.CAMPAIGN_CANCELED)
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<ResponseEntity<Map<String, Object>>> campaign(@RequestAttribute(Account.ATTRIBUTE) Account account,
                                                       @PathVariable String name, @PathVariable String action,
                                                       ServerHttpRequest request) {
        Problems.refuseMatrixParameters(request);
        return controls.controlCampaign(account, name, CallControl.Action.fromWire(action))
                .map(ControlController::accepted);
    }

    private static ResponseEntity<Map<String, Object>> accepted(CallControl control) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("control_id", control.controlId());
        body.put("action", control.action().wire());
        body.put("scope", control.scope().wire());
        body.put(control.scope() == CallControl.Scope.REQUEST ? "call_id" : "campaign",
                control.scope() == CallControl.Scope.REQUEST ? control.requestId() : control.campaign());
        body.put("issued_at", control.issuedAt());
        return ResponseEntity.status(HttpStatus.ACCEPTED).body(body);
    }
}
