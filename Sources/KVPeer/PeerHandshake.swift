import KVCluster
import NIOCore

/// The handshake of one connection as a pure state machine: frames in, frames to send and an outcome out.
/// The nonce comes from the caller, so the machine holds no randomness (see the wire format in PeerFraming.swift).
public struct PeerHandshake {
    /// Which end of the connection this side is.
    public enum Role: Sendable { case dialer, acceptor }

    /// What to do after a step.
    public struct Step {
        /// Frames to send, in order.
        public var send: [(PeerFrameType, [UInt8])] = []
        public var outcome: Outcome = .pending
    }

    /// Where the handshake stands after a step.
    public enum Outcome: Equatable {
        /// Waiting for more frames.
        case pending
        /// Done: the peer is authenticated (when a secret is configured) and messages may flow.
        case established(PeerHello)
        /// Refused: close the connection (after sending the ERROR frame in `send`, if any).
        case refused(PeerHandshakeError)
    }

    private enum State {
        case awaitingHello
        case awaitingAuth(remote: PeerHello, dialerHello: [UInt8], acceptorHello: [UInt8])
        case done
    }

    public let role: Role
    private let localHello: PeerHello
    private let localHelloBytes: [UInt8]
    private let secret: [UInt8]?
    private var state: State = .awaitingHello

    /// `nonce` must be `PeerHello.nonceBytes` fresh random bytes.
    public init(role: Role, nodeID: NodeID, clientAddress: String, secret: [UInt8]?, nonce: [UInt8]) {
        self.role = role
        self.secret = secret
        self.localHello = PeerHello(requiresAuth: secret != nil, nonce: nonce, nodeID: nodeID, clientAddress: clientAddress)
        self.localHelloBytes = localHello.encode()
    }

    /// The first step when the connection opens: the dialer speaks first.
    public mutating func start() -> Step {
        var step = Step()
        if role == .dialer { step.send.append((.hello, localHelloBytes)) }
        return step
    }

    /// Feeds one received frame.
    public mutating func receive(_ frame: PeerFrame) -> Step {
        do throws(PeerHandshakeError) {
            return try advance(frame)
        } catch {
            state = .done
            var step = Step()
            // The peer's own ERROR is not answered; every other refusal tells the peer why.
            if frame.type != .error { step.send.append((.error, error.encode())) }
            step.outcome = .refused(error)
            return step
        }
    }

    private mutating func advance(_ frame: PeerFrame) throws(PeerHandshakeError) -> Step {
        if frame.type == .error { throw PeerHandshakeError.decode(frame.payload) }
        switch state {
        case .awaitingHello:
            guard frame.type == .hello else { throw PeerHandshakeError(.malformed, "expected HELLO, got \(frame.type)") }
            let remote = try PeerHello.decode(frame.payload)
            try check(remote)
            let remoteBytes = Array(frame.payload.readableBytesView)
            var step = Step()
            if role == .acceptor { step.send.append((.hello, localHelloBytes)) }
            guard let secret else {
                state = .done
                step.outcome = .established(remote)
                return step
            }
            let dialerHello = role == .dialer ? localHelloBytes : remoteBytes
            let acceptorHello = role == .dialer ? remoteBytes : localHelloBytes
            if role == .acceptor {
                step.send.append((.auth, PeerAuthProof.make(secret: secret, .acceptor, dialerHello: dialerHello,
                                                            acceptorHello: acceptorHello)))
            }
            state = .awaitingAuth(remote: remote, dialerHello: dialerHello, acceptorHello: acceptorHello)
            return step
        case let .awaitingAuth(remote, dialerHello, acceptorHello):
            guard frame.type == .auth, let secret else {
                throw PeerHandshakeError(.malformed, "expected AUTH, got \(frame.type)")
            }
            let theirs: PeerAuthProof.Direction = role == .dialer ? .acceptor : .dialer
            guard PeerAuthProof.verify(Array(frame.payload.readableBytesView), secret: secret, theirs,
                                       dialerHello: dialerHello, acceptorHello: acceptorHello)
            else { throw PeerHandshakeError(.auth, "wrong cluster secret (AUTH proof does not verify)") }
            var step = Step()
            if role == .dialer {
                step.send.append((.auth, PeerAuthProof.make(secret: secret, .dialer, dialerHello: dialerHello,
                                                            acceptorHello: acceptorHello)))
            }
            state = .done
            step.outcome = .established(remote)
            return step
        case .done:
            throw PeerHandshakeError(.malformed, "\(frame.type) frame after the handshake ended")
        }
    }

    private func check(_ remote: PeerHello) throws(PeerHandshakeError) {
        guard remote.nodeID != localHello.nodeID else {
            throw PeerHandshakeError(.identity, "peer claims this node's own id \(remote.nodeID)")
        }
        switch (secret != nil, remote.requiresAuth) {
        case (true, false): throw PeerHandshakeError(.auth, "this node requires a cluster secret; the peer has none")
        case (false, true): throw PeerHandshakeError(.auth, "the peer requires a cluster secret; this node has none")
        default: break
        }
    }
}
