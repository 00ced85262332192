import KVPeer
import NIOCore
import Testing

/// The handshake machines of two sides run against each other, frames carried by hand.
@Suite struct PeerHandshakeTests {
    static func nonce(_ seed: UInt8) -> [UInt8] { (0..<32).map { seed &+ UInt8($0) } }

    static func machine(_ role: PeerHandshake.Role, _ id: String, secret: [UInt8]?, seed: UInt8) -> PeerHandshake {
        PeerHandshake(role: role, nodeID: id, clientAddress: "\(id):6379", secret: secret, nonce: nonce(seed))
    }

    static func frame(_ sent: (PeerFrameType, [UInt8])) -> PeerFrame {
        PeerFrame(type: sent.0, payload: ByteBuffer(bytes: sent.1))
    }

    /// Pumps frames between the two machines until neither has anything to send; returns both outcomes.
    static func run(_ dialer: inout PeerHandshake, _ acceptor: inout PeerHandshake)
        -> (dialer: PeerHandshake.Outcome, acceptor: PeerHandshake.Outcome) {
        var toAcceptor = dialer.start().send
        var toDialer = acceptor.start().send
        var dialerOutcome = PeerHandshake.Outcome.pending, acceptorOutcome = PeerHandshake.Outcome.pending
        while !toAcceptor.isEmpty || !toDialer.isEmpty {
            for sent in toAcceptor where acceptorOutcome == .pending {
                let step = acceptor.receive(frame(sent))
                toDialer += step.send
                acceptorOutcome = step.outcome
            }
            toAcceptor = []
            for sent in toDialer where dialerOutcome == .pending {
                let step = dialer.receive(frame(sent))
                toAcceptor += step.send
                dialerOutcome = step.outcome
            }
            toDialer = []
        }
        return (dialerOutcome, acceptorOutcome)
    }

    static func failure(_ outcome: PeerHandshake.Outcome) -> PeerHandshakeFailure? {
        if case let .refused(error) = outcome { return error.failure }
        return nil
    }

    @Test func withoutSecretsBothSidesLearnTheOther() {
        var d = Self.machine(.dialer, "a", secret: nil, seed: 1)
        var a = Self.machine(.acceptor, "b", secret: nil, seed: 2)
        let (dialer, acceptor) = Self.run(&d, &a)
        guard case let .established(seenByDialer) = dialer, case let .established(seenByAcceptor) = acceptor else {
            Issue.record("not established: \(dialer) \(acceptor)")
            return
        }
        #expect(seenByDialer.nodeID == "b" && seenByDialer.clientAddress == "b:6379")
        #expect(seenByAcceptor.nodeID == "a" && seenByAcceptor.clientAddress == "a:6379")
    }

    @Test func sameSecretAuthenticates() {
        var d = Self.machine(.dialer, "a", secret: Array("s3cret".utf8), seed: 1)
        var a = Self.machine(.acceptor, "b", secret: Array("s3cret".utf8), seed: 2)
        let (dialer, acceptor) = Self.run(&d, &a)
        #expect(dialer != .pending && Self.failure(dialer) == nil)
        #expect(acceptor != .pending && Self.failure(acceptor) == nil)
    }

    @Test func wrongSecretIsRefusedOnBothSides() {
        var d = Self.machine(.dialer, "a", secret: Array("one".utf8), seed: 1)
        var a = Self.machine(.acceptor, "b", secret: Array("two".utf8), seed: 2)
        let (dialer, acceptor) = Self.run(&d, &a)
        #expect(Self.failure(dialer) == .auth)
        #expect(Self.failure(acceptor) == .auth)
    }

    @Test(arguments: [(true, false), (false, true)])
    func oneSideWithoutSecretIsRefused(dialerHasSecret: Bool, acceptorHasSecret: Bool) {
        let secret = Array("s".utf8)
        var d = Self.machine(.dialer, "a", secret: dialerHasSecret ? secret : nil, seed: 1)
        var a = Self.machine(.acceptor, "b", secret: acceptorHasSecret ? secret : nil, seed: 2)
        let (dialer, acceptor) = Self.run(&d, &a)
        #expect(Self.failure(dialer) == .auth)
        #expect(Self.failure(acceptor) == .auth)
    }

    @Test func peerClaimingOurIdIsRefused() {
        var d = Self.machine(.dialer, "same", secret: nil, seed: 1)
        var a = Self.machine(.acceptor, "same", secret: nil, seed: 2)
        let (dialer, acceptor) = Self.run(&d, &a)
        #expect(Self.failure(acceptor) == .identity)
        #expect(Self.failure(dialer) == .identity)
    }

    @Test func otherProtocolVersionIsRefusedWithAClearReason() {
        var a = Self.machine(.acceptor, "b", secret: nil, seed: 2)
        let hello = PeerHello(version: 2, requiresAuth: false, nonce: Self.nonce(1), nodeID: "a", clientAddress: "x:1")
        let step = a.receive(PeerFrame(type: .hello, payload: ByteBuffer(bytes: hello.encode())))
        guard case let .refused(error) = step.outcome else {
            Issue.record("accepted \(step.outcome)")
            return
        }
        #expect(error.failure == .version)
        #expect(error.reason.contains("version 2"))
        #expect(step.send.count == 1 && step.send.first?.0 == .error && step.send.first?.1.first == PeerHandshakeFailure.version.rawValue)
    }

    @Test func messageBeforeHandshakeIsRefused() {
        var a = Self.machine(.acceptor, "b", secret: nil, seed: 2)
        let step = a.receive(PeerFrame(type: .message, payload: ByteBuffer(bytes: [1, 2, 3])))
        #expect(Self.failure(step.outcome) == .malformed)
    }

    /// An attacker without the secret cannot reuse the acceptor's own proof (direction is bound) nor a
    /// proof recorded on another connection (nonces are bound).
    @Test func proofsCannotBeReflectedOrReplayed() {
        let secret = Array("k".utf8)
        // Reflection: feed the acceptor's AUTH back to it as the dialer's.
        var victim = Self.machine(.acceptor, "b", secret: secret, seed: 2)
        let attackerHello = PeerHello(requiresAuth: true, nonce: Self.nonce(9), nodeID: "evil", clientAddress: "e:1")
        let reply = victim.receive(PeerFrame(type: .hello, payload: ByteBuffer(bytes: attackerHello.encode())))
        let acceptorProof = reply.send.first { $0.0 == .auth }!
        #expect(Self.failure(victim.receive(Self.frame(acceptorProof)).outcome) == .auth)

        // Replay: a genuine dialer proof from one connection, presented on a new one (fresh acceptor nonce).
        var d = Self.machine(.dialer, "a", secret: secret, seed: 1)
        var a1 = Self.machine(.acceptor, "b", secret: secret, seed: 2)
        let hello = d.start().send[0]
        let answer = a1.receive(Self.frame(hello)).send
        var dialerProof: (PeerFrameType, [UInt8])?
        for sent in answer { dialerProof = d.receive(Self.frame(sent)).send.first { $0.0 == .auth } ?? dialerProof }
        var a2 = Self.machine(.acceptor, "b", secret: secret, seed: 3)
        _ = a2.receive(Self.frame(hello))
        #expect(Self.failure(a2.receive(Self.frame(dialerProof!)).outcome) == .auth)
    }

    @Test func garbageHelloIsMalformed() {
        var a = Self.machine(.acceptor, "b", secret: nil, seed: 2)
        #expect(Self.failure(a.receive(PeerFrame(type: .hello, payload: ByteBuffer(bytes: [1, 2, 3]))).outcome) == .malformed)
        var b = Self.machine(.acceptor, "b", secret: nil, seed: 2)
        var bytes = PeerHello(requiresAuth: false, nonce: Self.nonce(1), nodeID: "a", clientAddress: "x:1").encode()
        bytes.append(0)  // trailing byte
        #expect(Self.failure(b.receive(PeerFrame(type: .hello, payload: ByteBuffer(bytes: bytes))).outcome) == .malformed)
    }
}
