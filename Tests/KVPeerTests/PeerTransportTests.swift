import KVCluster
import KVPeer
import KVVersioning
import NIOCore
import Testing

/// Two (or more) transports on loopback sockets.
@Suite(.timeLimit(.minutes(2))) struct PeerTransportTests {
    static let set: SiblingSet = {
        var s = SiblingSet()
        s.update(clientContext: VersionVector(), actor: Actor(node: "a", epoch: 1), value: Array("v".utf8), timestamp: 5)
        return s
    }()

    static let kinds: [PeerMessage] = [
        .stampPut(request: 1, key: Array("k".utf8), value: [1, 2, 3], isTombstone: false, context: VersionVector(),
                  supersedeLocal: true, timestamp: 7, hintFor: "c"),
        .stamped(request: 1, object: set, dot: Dot(actor: Actor(node: "a", epoch: 1), counter: 1)),
        .replicate(request: 2, key: [0], object: set, hintFor: nil),
        .replicated(request: 2, accepted: true),
        .get(request: 3, key: Array("key".utf8)),
        .got(request: 3, object: nil),
        .repair(key: [9], object: set, hintFor: nil),
        .reapTombstones(key: [8], context: set.context),
        .handoff(hint: 4, key: [7], object: set),
        .handoffAck(hint: 4, key: [7]),
    ]

    @Test func bothDialEachOtherAndMessagesArriveInOrder() async throws {
        try await withLoop { loop in
            var config = TestNode.fastConfiguration()
            config.connectionsPerPeer = 1  // one connection: order is the send order
            let a = try await TestNode(loop: loop, id: "a", configuration: config)
            let b = try await TestNode(loop: loop, id: "b", configuration: config)
            let (aAddress, bAddress) = (a.address, b.address)
            try await a.run { t, _ in t.dial(bAddress) }
            try await b.run { t, _ in t.dial(aAddress) }
            try await a.waitUntil("a sees b up") { _, r in !r.ups.isEmpty }
            try await b.waitUntil("b sees a up") { _, r in !r.ups.isEmpty }
            let observed1 = try await a.run { _, r in r.ups }
            #expect(observed1 == [.up("b", clientAddress: "b.client:6379", dialed: bAddress)])
            let observed2 = try await b.run { _, r in r.ups }
            #expect(observed2 == [.up("a", clientAddress: "a.client:6379", dialed: aAddress)])
            let observed3 = try await a.run { t, _ in t.connectedPeers }
            #expect(observed3 == ["b"])

            let kinds = Self.kinds
            let sent = try await a.run { t, _ in
                let ok = kinds.allSatisfy { t.send($0, to: "b") }
                t.flush()
                return ok
            }
            #expect(sent)
            try await b.waitUntil("b got every kind") { _, r in r.messages.count >= kinds.count }
            let observed4 = try await b.run { _, r in r.messages }
            #expect(observed4 == kinds)
            let allFromA = try await b.run { _, r in
                r.events.allSatisfy { if case let .message(_, from) = $0 { from == "a" } else { true } }
            }
            #expect(allFromA)
            let stats = try await b.run { t, _ in t.stats }
            #expect(stats.messagesIn == kinds.count)
            #expect(stats.handshakeFailures.total == 0)

            // Unknown peers and unflushed sends: nothing leaves.
            let observed5 = try await a.run { t, _ in t.send(.get(request: 1, key: []), to: "nobody") }
            #expect(observed5 == false)
            try await a.close()
            try await b.close()
        }
    }

    @Test func thousandMessagesAllArriveOverSeveralConnections() async throws {
        try await withLoop { loop in
            let a = try await TestNode(loop: loop, id: "a", configuration: TestNode.fastConfiguration())
            let b = try await TestNode(loop: loop, id: "b", configuration: TestNode.fastConfiguration())
            let bAddress = b.address
            try await a.run { t, _ in t.dial(bAddress) }
            try await a.waitUntil("both connections up") { t, _ in t.stats.connectionsEstablished == 2 }
            let accepted = try await a.run { t, _ in
                var ok = 0
                for i in 0..<1000 {
                    if t.send(.replicated(request: UInt64(i), accepted: i % 2 == 0), to: "b") { ok += 1 }
                    if i % 100 == 99 { t.flush() }
                }
                return ok
            }
            #expect(accepted == 1000)
            try await b.waitUntil("1000 messages") { _, r in r.messages.count >= 1000 }
            // Request traffic keeps to one connection: it arrives in the order it was sent, not in
            // per-connection runs.
            let ids = try await b.run { _, r in
                r.messages.compactMap { if case let .replicated(id, _) = $0 { id } else { nil } }
            }
            #expect(ids == (0..<1000).map { UInt64($0) })
            let observed6 = try await b.run { t, _ in t.stats.connectionsEstablished }
            #expect(observed6 == 2)
            try await a.close()
            try await b.close()
        }
    }

    @Test func sameSecretConnects() async throws {
        try await withLoop { loop in
            let a = try await TestNode(loop: loop, id: "a", configuration: TestNode.fastConfiguration(secret: "cluster-key"))
            let b = try await TestNode(loop: loop, id: "b", configuration: TestNode.fastConfiguration(secret: "cluster-key"))
            let bAddress = b.address
            try await a.run { t, _ in t.dial(bAddress) }
            try await a.waitUntil("a sees b up") { _, r in !r.ups.isEmpty }
            try await a.run { t, _ in
                t.send(.get(request: 42, key: [1]), to: "b")
                t.flush()
            }
            try await b.waitUntil("message") { _, r in r.messages == [.get(request: 42, key: [1])] }
            try await a.close()
            try await b.close()
        }
    }

    @Test(arguments: [("one", "two"), (nil, "two"), ("one", nil)] as [(String?, String?)])
    func mismatchedSecretsAreRefusedOnBothSides(dialerSecret: String?, acceptorSecret: String?) async throws {
        try await withLoop { loop in
            let a = try await TestNode(loop: loop, id: "a", configuration: TestNode.fastConfiguration(secret: dialerSecret))
            let b = try await TestNode(loop: loop, id: "b", configuration: TestNode.fastConfiguration(secret: acceptorSecret))
            let bAddress = b.address
            try await a.run { t, _ in t.dial(bAddress) }
            try await a.waitUntil("dialer counts auth failures") { t, _ in t.stats.handshakeFailures.auth >= 2 }
            try await b.waitUntil("acceptor counts auth failures") { t, _ in t.stats.handshakeFailures.auth >= 2 }
            let observed7 = try await a.run { t, _ in t.send(.get(request: 1, key: [1]), to: "b") }
            #expect(observed7 == false)
            try await a.run { t, _ in t.flush() }
            let observed8 = try await a.run { _, r in r.events }
            #expect(observed8.isEmpty)
            let observed9 = try await b.run { _, r in r.events }
            #expect(observed9.isEmpty)
            let observed10 = try await a.run { t, _ in t.connectedPeers }
            #expect(observed10.isEmpty)
            let observed11 = try await b.run { t, _ in t.stats.messagesIn }
            #expect(observed11 == 0)
            try await a.close()
            try await b.close()
        }
    }

    @Test func peerClaimingOurIdIsRefused() async throws {
        try await withLoop { loop in
            let a = try await TestNode(loop: loop, id: "same", configuration: TestNode.fastConfiguration())
            let b = try await TestNode(loop: loop, id: "same", configuration: TestNode.fastConfiguration())
            let bAddress = b.address
            try await a.run { t, _ in t.dial(bAddress) }
            try await b.waitUntil("identity refusal") { t, _ in t.stats.handshakeFailures.identity >= 1 }
            let observed12 = try await a.run { _, r in r.events }
            #expect(observed12.isEmpty)
            try await a.close()
            try await b.close()
        }
    }

    @Test func killedPeerGoesDownAndComesBackOnRestart() async throws {
        try await withLoop { loop in
            let a = try await TestNode(loop: loop, id: "a", configuration: TestNode.fastConfiguration())
            let b = try await TestNode(loop: loop, id: "b", configuration: TestNode.fastConfiguration())
            let bAddress = b.address
            try await a.run { t, _ in t.dial(bAddress) }
            try await a.waitUntil("up") { _, r in r.ups.count == 1 }
            try await b.close()
            try await a.waitUntil("down") { _, r in r.downs == 1 }
            let observed13 = try await a.run { t, _ in t.connectedPeers }
            #expect(observed13.isEmpty)
            let observed14 = try await a.run { t, _ in t.send(.get(request: 1, key: []), to: "b") }
            #expect(observed14 == false)
            // Let a few reconnects fail against the closed port, then restart b on the same port.
            try await a.waitUntil("reconnects fail") { t, _ in t.stats.connectFailures >= 2 }
            let b2 = try await TestNode(loop: loop, id: "b", configuration: TestNode.fastConfiguration(), port: bAddress.port)
            try await a.waitUntil("up again") { _, r in r.ups.count == 2 }
            let history = try await a.run { _, r in r.events }
            #expect(history
                == [.up("b", clientAddress: "b.client:6379", dialed: bAddress), .down("b"),
                    .up("b", clientAddress: "b.client:6379", dialed: bAddress)])
            try await a.run { t, _ in
                t.send(.handoffAck(hint: 1, key: [2]), to: "b")
                t.flush()
            }
            try await b2.waitUntil("message after reconnect") { _, r in r.messages == [.handoffAck(hint: 1, key: [2])] }
            try await a.close()
            try await b2.close()
        }
    }

    @Test func garbageClientIsDisconnectedAndTheTransportKeepsServing() async throws {
        try await withLoop { loop in
            let a = try await TestNode(loop: loop, id: "a", configuration: TestNode.fastConfiguration())
            // Not a frame stream at all (oversize length before the handshake).
            let reply = try await rawExchange(loop: loop, port: a.port, bytes: ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
            let refusal = try frames(in: reply)
            #expect(refusal.count == 1 && refusal.first?.type == .error)
            // A well-framed HELLO without the magic.
            var bad = ByteBuffer()
            PeerFraming.write(.hello, payload: Array("hello there".utf8), into: &bad)
            _ = try await rawExchange(loop: loop, port: a.port, bytes: bad)
            // A version from the future: refused with the version code.
            var future = ByteBuffer()
            let hello = PeerHello(version: 9, requiresAuth: false, nonce: [UInt8](repeating: 1, count: 32), nodeID: "x",
                                  clientAddress: "x:1")
            PeerFraming.write(.hello, payload: hello.encode(), into: &future)
            let versionReply = try frames(in: try await rawExchange(loop: loop, port: a.port, bytes: future))
            #expect(versionReply.first.map { PeerHandshakeError.decode($0.payload).failure } == .version)

            let stats = try await a.run { t, _ in t.stats }
            #expect(stats.handshakeFailures.malformed == 2)
            #expect(stats.handshakeFailures.version == 1)

            let b = try await TestNode(loop: loop, id: "b", configuration: TestNode.fastConfiguration())
            let aAddress = a.address
            try await b.run { t, _ in t.dial(aAddress) }
            try await b.waitUntil("still serving") { _, r in !r.ups.isEmpty }
            try await a.close()
            try await b.close()
        }
    }

    @Test func undecodableMessageAfterTheHandshakeClosesTheConnection() async throws {
        try await withLoop { loop in
            let a = try await TestNode(loop: loop, id: "a", configuration: TestNode.fastConfiguration())
            var bytes = ByteBuffer()
            let hello = PeerHello(requiresAuth: false, nonce: [UInt8](repeating: 2, count: 32), nodeID: "raw", clientAddress: "r:1")
            PeerFraming.write(.hello, payload: hello.encode(), into: &bytes)
            PeerFraming.write(.message, payload: [ClusterCoding.version, 99, 1, 2, 3], into: &bytes)
            let reply = try frames(in: try await rawExchange(loop: loop, port: a.port, bytes: bytes))
            #expect(reply.first?.type == .hello)  // the handshake succeeded, then the bad message closed it
            let stats = try await a.run { t, _ in t.stats }
            #expect(stats.decodeErrors == 1)
            #expect(stats.messagesIn == 0)

            // An oversize frame after the handshake closes the connection too.
            var big = ByteBuffer()
            PeerFraming.write(.hello, payload: hello.encode(), into: &big)
            big.writeInteger(UInt32.max)
            _ = try await rawExchange(loop: loop, port: a.port, bytes: big)
            let observed15 = try await a.run { t, _ in t.stats.framingErrors }
            #expect(observed15 == 1)
            try await a.close()
        }
    }

    @Test func silentClientIsClosedByTheHandshakeTimeout() async throws {
        try await withLoop { loop in
            var config = TestNode.fastConfiguration()
            config.handshakeTimeout = .milliseconds(50)
            let a = try await TestNode(loop: loop, id: "a", configuration: config)
            let reply = try frames(in: try await rawExchange(loop: loop, port: a.port, bytes: ByteBuffer()))
            #expect(reply.count == 1)
            #expect(reply.first.map { PeerHandshakeError.decode($0.payload).failure } == .timeout)
            let stats = try await a.run { t, _ in t.stats }
            #expect(stats.handshakeFailures.timeout == 1)
            let info = Dictionary(uniqueKeysWithValues: stats.infoFields.map { ($0.name, $0.value) })
            #expect(info["peer_handshake_failures_timeout"] == 1)
            #expect(info["peer_connections_opened"] == 1)
            #expect(info["peer_frames_out"] == 1)
            try await a.close()
        }
    }

    @Test func aFullRequestQueueSpillsToTheOtherConnection() async throws {
        try await withLoop { loop in
            var config = TestNode.fastConfiguration()
            config.maxQueuedBytesPerConnection = 200
            let a = try await TestNode(loop: loop, id: "a", configuration: config)
            let b = try await TestNode(loop: loop, id: "b", configuration: TestNode.fastConfiguration())
            let bAddress = b.address
            try await a.run { t, _ in t.dial(bAddress) }
            try await a.waitUntil("both connections up") { t, _ in t.stats.connectionsEstablished == 2 }
            let message = PeerMessage.get(request: 1, key: [UInt8](repeating: 7, count: 40))
            let accepted = try await a.run { t, _ in
                var accepted = 0
                while t.send(message, to: "b") { accepted += 1 }
                t.flush()
                return accepted
            }
            let frameBytes = PeerFraming.headerBytes + ClusterCoding.encode(message).count
            #expect(accepted == 2 * (200 / frameBytes))
            try await b.waitUntil("all of them arrive") { _, r in r.messages.count == accepted }
            try await a.close()
            try await b.close()
        }
    }

    @Test func sendRefusesWhenTheQueueIsFullOrTheMessageTooLarge() async throws {
        try await withLoop { loop in
            var config = TestNode.fastConfiguration()
            config.connectionsPerPeer = 1
            config.maxQueuedBytesPerConnection = 200
            config.maxFrameBytes = 1000
            let a = try await TestNode(loop: loop, id: "a", configuration: config)
            let b = try await TestNode(loop: loop, id: "b", configuration: TestNode.fastConfiguration())
            let bAddress = b.address
            try await a.run { t, _ in t.dial(bAddress) }
            try await a.waitUntil("up") { _, r in !r.ups.isEmpty }
            let message = PeerMessage.get(request: 1, key: [UInt8](repeating: 7, count: 40))
            let (accepted, tooLarge, dropped) = try await a.run { t, _ in
                var accepted = 0
                while t.send(message, to: "b") { accepted += 1 }
                let tooLarge = t.send(.get(request: 2, key: [UInt8](repeating: 1, count: 2000)), to: "b")
                t.flush()
                return (accepted, tooLarge, t.stats.droppedSends)
            }
            let frameBytes = PeerFraming.headerBytes + ClusterCoding.encode(message).count
            #expect(accepted == 200 / frameBytes)
            #expect(!tooLarge)
            #expect(dropped == 2)
            try await b.waitUntil("the queued ones arrive") { _, r in r.messages.count == accepted }
            let drained = try await a.run { t, _ in t.send(message, to: "b") }
            #expect(drained)  // the written bytes left the queue
            try await a.close()
            try await b.close()
        }
    }
}
