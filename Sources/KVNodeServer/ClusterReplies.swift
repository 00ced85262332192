import KVCluster
import KVClusterShell
import KVVersioning
import NIOCore
import RESP

/// How cluster answers become RESP replies. Failures keep their meaning: a write that missed its quorum
/// is "not acknowledged" (it may still be applied), never reported as failed for sure.
enum ClusterReplies {
    /// Writes the error for an answer that is not a success; returns false when it is a success.
    static func writeFailure(_ answer: ClusterAnswer, _ out: inout ByteBuffer) -> Bool {
        switch answer {
        case .reply(.value), .reply(.written):
            return false
        case let .reply(.notAcknowledged(acks, required)):
            out.writeRESPError("NOTACK write confirmed by \(acks) of the \(required) replicas required before the timeout; it may still be applied")
        case let .reply(.readTimedOut(answered, required)):
            out.writeRESPError("TIMEOUT read answered by \(answered) of the \(required) replicas required")
        case let .reply(.unavailable(reachable, required)):
            out.writeRESPError("UNAVAILABLE \(reachable) replicas reachable, \(required) required")
        case let .refused(reason):
            out.writeRESPError(reason)
        }
        return true
    }

    /// Plain `GET`: the one live value, null, or an error naming the siblings.
    static func plainGet(_ answers: [ClusterAnswer], _ version: RESPVersion, _ out: inout ByteBuffer) {
        guard !writeFailure(answers[0], &out), case let .reply(.value(set)) = answers[0] else { return }
        writePlain(set, version, &out)
    }

    private static func writePlain(_ set: SiblingSet, _ version: RESPVersion, _ out: inout ByteBuffer) {
        switch PlainReadResult(set, lastWriteWins: false) {
        case .value(let v):
            v.withUnsafeBytes { out.writeRESPBulkString($0) }
        case .notFound:
            out.writeRESPNull(version)
        case .siblings(let count):
            out.writeRESPError("SIBLINGS key has \(count) concurrent values; use KV.GET")
        }
    }

    /// `MGET`: an array with each key's plain value (an error element for a key that failed).
    static func multiGet(_ answers: [ClusterAnswer], _ version: RESPVersion, _ out: inout ByteBuffer) {
        out.writeRESPArrayHeader(answers.count)
        for a in answers {
            if !writeFailure(a, &out), case let .reply(.value(set)) = a { writePlain(set, version, &out) }
        }
    }

    /// `EXISTS`: how many of the keys hold a live value (the first failure is reported instead).
    static func existsCount(_ answers: [ClusterAnswer], _ version: RESPVersion, _ out: inout ByteBuffer) {
        var n = 0
        for a in answers {
            if case let .reply(.value(set)) = a {
                if !set.liveSiblings.isEmpty { n += 1 }
            } else {
                _ = writeFailure(a, &out)
                return
            }
        }
        out.writeRESPInteger(n)
    }

    /// `SET`/`MSET`: OK once every write reached its quorum (the first failure is reported instead).
    static func allWritten(_ answers: [ClusterAnswer], _ version: RESPVersion, _ out: inout ByteBuffer) {
        for a in answers where writeFailure(a, &out) { return }
        out.writeRESPSimpleString("OK")
    }

    /// `DEL`: the number of keys whose delete reached its quorum (the first failure is reported instead).
    /// Unlike Redis, keys that did not exist count too: knowing would cost a read before every delete.
    static func deleteCount(_ answers: [ClusterAnswer], _ version: RESPVersion, _ out: inout ByteBuffer) {
        for a in answers where writeFailure(a, &out) { return }
        out.writeRESPInteger(answers.count)
    }

    /// `KV.GET` / `KV.GETLOCAL`: [causal context, [live sibling values]] (values sorted by dot).
    static func versions(_ answers: [ClusterAnswer], _ version: RESPVersion, _ out: inout ByteBuffer) {
        guard !writeFailure(answers[0], &out), case let .reply(.value(set)) = answers[0] else { return }
        out.writeRESPArrayHeader(2)
        CausalContextCoding.encode(set.context).withUnsafeBytes { out.writeRESPBulkString($0) }
        let live = set.liveSiblings
        out.writeRESPArrayHeader(live.count)
        for s in live { s.value.withUnsafeBytes { out.writeRESPBulkString($0) } }
    }

    /// `KV.PUT` / `KV.DEL`: the new causal context (pass it to the next write to supersede this one).
    static func written(_ answers: [ClusterAnswer], _ version: RESPVersion, _ out: inout ByteBuffer) {
        guard !writeFailure(answers[0], &out), case let .reply(.written(context, _)) = answers[0] else { return }
        CausalContextCoding.encode(context).withUnsafeBytes { out.writeRESPBulkString($0) }
    }

    /// `CLUSTER.MEMBERS`: one `node-id host:port state [heard=<ms>]` line per member (state: up, suspect,
    /// down, leaving, removed; `? host:port unknown` for a seed whose id is not learned yet).
    /// `CLUSTER.REBALANCE RANGES`: one line per ring range this node moved keys of, in ring order:
    /// `<start>-<end> keys_sent=… bytes_sent=… keys_received=… bytes_received=…` (the range is
    /// `(start, end]` of the 64-bit hash ring, in hex).
    static func rebalanceRanges(_ shell: ClusterShell, _ version: RESPVersion, _ out: inout ByteBuffer) {
        let ranges = shell.rebalanceStats.ranges.values.sorted { $0.end < $1.end }
        out.writeRESPArrayHeader(ranges.count)
        for r in ranges {
            out.writeRESPBulkString(hex(r.start) + "-" + hex(r.end) + " keys_sent=\(r.keysSent) bytes_sent=\(r.bytesSent) "
                                    + "keys_received=\(r.keysReceived) bytes_received=\(r.bytesReceived)")
        }
    }

    private static func hex(_ v: UInt64) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// `CLUSTER.REBALANCE`: `field:value` lines (as INFO) with what this node moved for ring changes.
    static func rebalance(_ shell: ClusterShell, _ version: RESPVersion, _ out: inout ByteBuffer) {
        let r = shell.rebalanceStats
        let fields: [(String, String)] = [
            ("rebalancing", shell.isRebalancing ? "1" : "0"), ("ring_members", shell.ringMemberIDs.sorted().joined(separator: ",")),
            ("ring_changes", String(shell.stats.ringChanges)), ("keys_sent", String(r.keysSent)),
            ("bytes_sent", String(r.bytesSent)), ("keys_received", String(r.keysReceived)),
            ("bytes_received", String(r.bytesReceived)), ("keys_dropped", String(r.keysDropped)),
            ("retries", String(r.retries)), ("last_ms", String(shell.stats.lastRebalanceMillis)),
            ("total_ms", String(shell.stats.rebalanceMillis)), ("leave_state", shell.leaveState),
            ("pass", shell.rebalanceSummary), ("ranges_moved", String(r.ranges.count)),
        ]
        out.writeRESPBulkString(fields.map { "\($0.0):\($0.1)\r\n" }.joined())
    }

    static func members(_ shell: ClusterShell, _ version: RESPVersion, _ out: inout ByteBuffer) {
        let members = shell.memberStates
        let missing = shell.missingSeeds
        out.writeRESPArrayHeader(members.count + missing.count)
        for (m, state, heard) in members {
            // A fourth field, `heard=<ms>`, says how long ago this node last heard from the member.
            let suffix = heard.map { " heard=\($0)ms" } ?? ""
            out.writeRESPBulkString("\(m.id) \(m.clientAddress) \(state)\(suffix)")
        }
        for seed in missing { out.writeRESPBulkString("? \(seed) unknown") }
    }

    /// `CLUSTER.RING`: per member `node-id host:port tokens=T share=S` (share of the hash space it owns);
    /// `CLUSTER.RING key`: the key's preference list, `node-id host:port` per primary, owner first.
    static func ring(_ shell: ClusterShell, key: [UInt8]?, _ out: inout ByteBuffer) {
        guard let placement = shell.placement else {
            out.writeRESPError("CLUSTERDOWN membership not known yet (waiting for seeds \(shell.missingSeeds.joined(separator: ",")))")
            return
        }
        var address: [NodeID: String] = [:]
        for (m, _) in shell.members { address[m.id] = m.clientAddress }
        if let key {
            let primaries = placement.primaries(for: key)
            out.writeRESPArrayHeader(primaries.count)
            for p in primaries { out.writeRESPBulkString("\(p) \(address[p] ?? "?")") }
            return
        }
        let nodes = placement.ring.membership.nodes
        let shares = placement.ring.ownershipShares
        out.writeRESPArrayHeader(nodes.count)
        for (i, n) in nodes.enumerated() {
            let share = (shares[i] * 1_000_000).rounded() / 1_000_000
            out.writeRESPBulkString("\(n.id) \(address[n.id] ?? "?") tokens=\(placement.ring.tokensPerNode) share=\(share)")
        }
    }
}
