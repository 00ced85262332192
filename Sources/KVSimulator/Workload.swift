import KVCluster
import KVVersioning

/// A simulated client: the causal context it last read per key, and what that read had seen.
struct ClientState {
    var contexts: [Int: (context: VersionVector, seen: Set<Int>)] = [:]
    var done = 0
}

extension Simulation {
    static func key(_ k: Int) -> [UInt8] { Array("key-\(k)".utf8) }

    /// Starts every client.
    func startWorkload() {
        for c in clients.indices { schedule(.clientInvoke(client: c), after: workloadRNG.tick(options.thinkTime)) }
    }

    var workloadDone: Bool { clients.allSatisfy { $0.done >= options.operationsPerClient } && inFlight.isEmpty }

    /// A client picks a node, a key and an operation: read 35%, write 50% (with its last context
    /// for the key 70% of the time, else blind), delete 15% (only with a context).
    func invoke(client c: Int) {
        guard clients[c].done < options.operationsPerClient else { return }
        let node = workloadRNG.int(0...(options.nodes - 1))
        let key = workloadRNG.int(0...(options.keys - 1))
        let roll = workloadRNG.int(0...99)
        let held = clients[c].contexts[key]
        let kind: OperationKind
        if roll < 35 { kind = .read } else if roll < 85 || held == nil { kind = .write } else { kind = .delete }
        let useContext = kind == .delete || (kind == .write && workloadRNG.int(0...9) < 7)
        let opID = history.count + 1
        var op = Operation(id: opID, client: c, key: key, kind: kind, invokedAt: now)
        let request: ClientRequest
        let context = useContext ? (held?.context ?? VersionVector()) : VersionVector()
        if useContext, let held { op.seen = held.seen }
        switch kind {
        case .read: request = .get(key: Self.key(key), quorum: Quorum())
        case .write: request = .put(key: Self.key(key), value: ValueID.encode(opID), context: context, quorum: Quorum())
        case .delete: request = .delete(key: Self.key(key), context: context, quorum: Quorum(), tag: ValueID.encode(opID))
        }
        history.append(op)
        clients[c].done += 1
        guard nodes[node] != nil else {
            // Connection refused: the request never left the client.
            finish(opIndex: opID - 1, outcome: .failed)
            return
        }
        nextClientRequest += 1
        let rid = nextClientRequest
        inFlight[rid] = (c, opID - 1)
        schedule(.requestArrives(node: node, rid, request), after: 1)
        schedule(.clientTimeout(rid), after: options.clientTimeout)
    }

    func complete(_ rid: ClientRequestID, _ reply: ClientReply) {
        guard let (c, i) = inFlight.removeValue(forKey: rid) else { return }
        switch reply {
        case .value(let set):
            let returned = ValueID.ids(set)
            history[i].returned = returned
            var seen = Set(returned)
            for id in returned where id > 0 && id <= history.count { seen.formUnion(history[id - 1].seen) }
            clients[c].contexts[history[i].key] = (set.context, seen)
            finish(opIndex: i, outcome: .ok)
        case .written:
            finish(opIndex: i, outcome: .ok)
        case .notAcknowledged, .readTimedOut:
            finish(opIndex: i, outcome: .unknown)
        case .unavailable:
            finish(opIndex: i, outcome: .failed)
        }
    }

    func timeOut(_ rid: ClientRequestID) {
        guard let (_, i) = inFlight.removeValue(forKey: rid) else { return }
        finish(opIndex: i, outcome: .unknown)
    }

    func finish(opIndex i: Int, outcome: Outcome) {
        history[i].outcome = outcome
        history[i].completedAt = now
        schedule(.clientInvoke(client: history[i].client), after: workloadRNG.tick(options.thinkTime))
    }

    /// Final sweep reads (R = N) land here.
    func sweepReply(_ rid: ClientRequestID, _ reply: ClientReply) {
        if case .value(let set) = reply { sweepResults[Int(rid - SweepRequests.base)] = set }
    }
}
