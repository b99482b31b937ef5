package dev.dialer.api.control;

import dev.dialer.api.account.Account;
import dev.dialer.common.contract.CallControl;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
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

    private final CallControls controls;

    ControlController(CallControls controls) {
        this.controls = controls;
    }

    @DeleteMapping(path = "/api/v2/calls/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<Map<String, Object>>> cancel(@RequestAttribute(Account.ATTRIBUTE) Account account,
                                                     @PathVariable String id) {
        return controls.cancelCall(account, id).map(ControlController::accepted);
    }

    @PostMapping(path = "/api/v2/campaigns/{name}/{action:cancel|pause|resume}",
            produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<Map<String, Object>>> campaign(@RequestAttribute(Account.ATTRIBUTE) Account account,
                                                       @PathVariable String name, @PathVariable String action) {
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
