/**
 * A carrier simulator speaking the Voice Gateway (jambonz) REST API: {@link dev.dialer.simulator.CarrierSimulator}
 * accepts create-call requests and plays each call's outcome back as jambonz status callbacks, so the dialer can be
 * exercised end to end without a real carrier. Everything except the public API types is package-private.
 */
package dev.dialer.simulator;
