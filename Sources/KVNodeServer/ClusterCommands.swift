import KVCluster
import KVClusterShell
import KVVersioning
import NIOCore
import RESP

/// Cluster mode: the keyspace commands go through this node's coordinator (N replicas, R/W quorums)
/// and the Dynamo commands `KV.GET`, `KV.PUT`, `KV.DEL`, `KV.GETLOCAL`, `CLUSTER.MEMBERS`, `CLUSTER.RING`.
extension CommandExecutor {
    /// The outcome for commands that behave differently in cluster mode; nil for the others.
    func clusterCommand(_ kind: CommandKind, _ command: RESPCommand, _ session: ClientSession,
                        _ out: inout ByteBuffer) -> CommandOutcome? {
        guard context.cluster != nil else {
            switch kind {
            case .kvGet, .kvPut, .kvDel, .kvGetLocal, .kvRepair, .clusterMembers, .clusterRing,
                 .clusterJoin, .clusterLeave, .clusterRemove, .clusterRebalance:
                return error(&out, "ERR this node is not part of a cluster (start kvnode with --node-id and --seeds)")
            default:
                return nil
            }
        }
        switch kind {
        case .get:
            return call([.get(key: key(command[1]), quorum: Quorum())], ClusterReplies.plainGet)
        case .set:
            guard command.count == 3 else {
                return error(&out, "ERR SET options are not supported in cluster mode (plain SET key value, or KV.PUT)")
            }
            return plainSets(command, from: 1, &out)
        case .mset:
            guard command.count % 2 == 1 else { return error(&out, "ERR wrong number of arguments for 'mset' command") }
            return plainSets(command, from: 1, &out)
        case .del, .unlink:
            let keys = (1..<command.count).map { key(command[$0]) }
            return call(keys.map { .plainDelete(key: $0, quorum: Quorum()) }, ClusterReplies.deleteCount)
        case .exists:
            let keys = (1..<command.count).map { key(command[$0]) }
            return call(keys.map { .get(key: $0, quorum: Quorum()) }, ClusterReplies.existsCount)
        case .mget:
            let keys = (1..<command.count).map { key(command[$0]) }
            return call(keys.map { .get(key: $0, quorum: Quorum()) }, ClusterReplies.multiGet)
        case .dbsize:
            return .awaitCluster(ClusterCall { shell, _, out in out.writeRESPInteger(shell.store.objectCount) })
        case .setnx, .setex, .strlen, .type, .ttl, .pttl, .flushall, .flushdb:
            return error(&out, "ERR '\(kind)' is not supported in cluster mode (use GET/SET/DEL or KV.GET/KV.PUT/KV.DEL)")
        case .kvGet:
            return kvGet(command, &out)
        case .kvGetLocal:
            guard command.count == 2 else { return error(&out, "ERR wrong number of arguments for 'kv.getlocal' command") }
            return call([.getLocal(key: key(command[1]))], ClusterReplies.versions)
        case .kvPut:
            return kvWrite(command, valueIndex: 2, &out)
        case .kvDel:
            return kvWrite(command, valueIndex: nil, &out)
        case .kvRepair:
            return .awaitCluster(ClusterCall(custom: ClusterReplies.repair))
        case .clusterMembers:
            return .awaitCluster(ClusterCall(inspect: ClusterReplies.members))
        case .clusterRing:
            let k = command.count > 1 ? key(command[1]) : nil
            return .awaitCluster(ClusterCall { shell, _, out in ClusterReplies.ring(shell, key: k, &out) })
        case .clusterJoin:
            let address = String(decoding: command[1].readableBytesView, as: UTF8.self)
            guard ClusterSettings.parseAddress(address) != nil else {
                return error(&out, "ERR CLUSTER.JOIN takes the host:port of a running member")
            }
            return operatorCall { $0.join(address) }
        case .clusterLeave:
            return operatorCall { $0.leaveCluster() }
        case .clusterRemove:
            let id = String(decoding: command[1].readableBytesView, as: UTF8.self)
            return operatorCall { $0.removeMember(id) }
        case .clusterRebalance:
            if command.count == 1 { return .awaitCluster(ClusterCall(inspect: ClusterReplies.rebalance)) }
            let sub = String(decoding: command[1].readableBytesView, as: UTF8.self).uppercased()
            guard command.count == 2, sub == "RANGES" else {
                return error(&out, "ERR usage: CLUSTER.REBALANCE [RANGES]")
            }
            return .awaitCluster(ClusterCall(inspect: ClusterReplies.rebalanceRanges))
        default:
            return nil
        }
    }

    /// An operator command run on the shell's loop: `+OK`, or an error saying why not.
    private func operatorCall(_ body: @escaping @Sendable (ClusterShell) -> String?) -> CommandOutcome {
        .awaitCluster(ClusterCall(inspect: { shell, _, out in
            if let problem = body(shell) { out.writeRESPError("ERR \(problem)") } else { out.writeRESPSimpleString("OK") }
        }))
    }

    private func call(_ requests: [ClientRequest], _ format: @escaping ClusterCall.Format) -> CommandOutcome {
        .awaitCluster(ClusterCall(requests: requests, format: format))
    }

    private func key(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

    private func tooLarge(key: ByteBuffer, value: ByteBuffer?) -> String? {
        if key.readableBytes > ClusterCoding.maxKeyLength {
            return "ERR key too large for cluster mode (\(key.readableBytes) bytes, limit \(ClusterCoding.maxKeyLength))"
        }
        if let value, value.readableBytes > SiblingSetCoding.maxValueLength {
            return "ERR value too large for cluster mode (\(value.readableBytes) bytes, limit \(SiblingSetCoding.maxValueLength))"
        }
        return nil
    }

    private func plainSets(_ command: RESPCommand, from first: Int, _ out: inout ByteBuffer) -> CommandOutcome {
        var requests: [ClientRequest] = []
        var i = first
        while i + 1 < command.count {
            if let problem = tooLarge(key: command[i], value: command[i + 1]) { return error(&out, problem) }
            requests.append(.plainSet(key: key(command[i]), value: key(command[i + 1]), quorum: Quorum()))
            i += 2
        }
        return call(requests, ClusterReplies.allWritten)
    }

    /// `KV.GET key [R n | PR n]`.
    private func kvGet(_ command: RESPCommand, _ out: inout ByteBuffer) -> CommandOutcome {
        var quorum = Quorum()
        var i = 2
        while i < command.count {
            guard i + 1 < command.count, let n = ArgumentDecoding.int64(command[i + 1]), n >= 1, n <= 64 else {
                return error(&out, "ERR syntax error (KV.GET key [R n | PR n], 1 <= n <= N)")
            }
            if ArgumentDecoding.equalsIgnoringCase(command[i], "R") {
                quorum = Quorum(Int(n))
            } else if ArgumentDecoding.equalsIgnoringCase(command[i], "PR") {
                quorum = Quorum(Int(n), strict: true)
            } else {
                return error(&out, "ERR syntax error (KV.GET key [R n | PR n])")
            }
            i += 2
        }
        return call([.get(key: key(command[1]), quorum: quorum)], ClusterReplies.versions)
    }

    /// `KV.PUT key value [CONTEXT ctx] [W n | PW n]` and `KV.DEL key [CONTEXT ctx] [W n | PW n]`.
    private func kvWrite(_ command: RESPCommand, valueIndex: Int?, _ out: inout ByteBuffer) -> CommandOutcome {
        let name = valueIndex == nil ? "KV.DEL key" : "KV.PUT key value"
        var quorum = Quorum()
        var context = VersionVector()
        var i = (valueIndex ?? 1) + 1
        if let problem = tooLarge(key: command[1], value: valueIndex.map { command[$0] }) { return error(&out, problem) }
        while i < command.count {
            guard i + 1 < command.count else { return error(&out, "ERR syntax error (\(name) [CONTEXT ctx] [W n | PW n])") }
            let arg = command[i], next = command[i + 1]
            if ArgumentDecoding.equalsIgnoringCase(arg, "CONTEXT") {
                do {
                    context = try CausalContextCoding.decode(key(next))
                } catch let problem {
                    return error(&out, "ERR invalid causal context: \(problem)")
                }
            } else if ArgumentDecoding.equalsIgnoringCase(arg, "W") || ArgumentDecoding.equalsIgnoringCase(arg, "PW") {
                guard let n = ArgumentDecoding.int64(next), n >= 1, n <= 64 else {
                    return error(&out, "ERR syntax error (W and PW take 1 <= n <= N)")
                }
                quorum = Quorum(Int(n), strict: ArgumentDecoding.equalsIgnoringCase(arg, "PW"))
            } else {
                return error(&out, "ERR syntax error (\(name) [CONTEXT ctx] [W n | PW n])")
            }
            i += 2
        }
        let k = key(command[1])
        if let valueIndex {
            return call([.put(key: k, value: key(command[valueIndex]), context: context, quorum: quorum)],
                        ClusterReplies.written)
        }
        return call([.delete(key: k, context: context, quorum: quorum, tag: [])], ClusterReplies.written)
    }
}
