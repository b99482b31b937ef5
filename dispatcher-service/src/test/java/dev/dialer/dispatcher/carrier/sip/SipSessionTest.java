package dev.dialer.dispatcher.carrier.sip;

import static org.assertj.core.api.Assertions.assertThatCode;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import javax.sip.DialogTerminatedEvent;
import javax.sip.IOExceptionEvent;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import javax.sip.SipListener;
import javax.sip.TimeoutEvent;
import javax.sip.TransactionTerminatedEvent;
import org.junit.jupiter.api.Test;

class SipSessionTest {

    /** Sessions opened and closed back to back: the stack's UDP processor is stopped before its thread ran in most. */
    private static final int SESSIONS = 5;

    @Test
    void aSessionClosedRightAfterItOpenedStopsWholeAndFreesItsPort() throws Exception {
        for (int i = 0; i < SESSIONS; i++) {
            SipSession session = new SipSession(properties(), new Quiet());
            int port = session.localPort();

            assertThatCode(session::close).as("close of session %d", i).doesNotThrowAnyException();
            // Its socket was closed with the processor: the port can be bound again.
            try (DatagramSocket again = new DatagramSocket(port, InetAddress.getLoopbackAddress())) {
                again.close();
            }
        }
    }

    private static SipTrunkProperties properties() {
        return new SipTrunkProperties(true, "127.0.0.1", 5060, "udp", "127.0.0.1", 0, null, null, null, null, 40000,
                Duration.ofSeconds(60), Duration.ofMinutes(5), 2, Duration.ofSeconds(30), 1, Duration.ofMillis(500),
                Duration.ofSeconds(2), Duration.ofMillis(500));
    }

    private static final class Quiet implements SipListener {
        @Override
        public void processRequest(RequestEvent event) {
        }

        @Override
        public void processResponse(ResponseEvent event) {
        }

        @Override
        public void processTimeout(TimeoutEvent event) {
        }

        @Override
        public void processIOException(IOExceptionEvent event) {
        }

        @Override
        public void processTransactionTerminated(TransactionTerminatedEvent event) {
        }

        @Override
        public void processDialogTerminated(DialogTerminatedEvent event) {
        }
    }
}
