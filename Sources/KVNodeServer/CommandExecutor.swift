import KVStorage
import NIOCore
import RESP

/// What a connection must do once a command has written its reply.
public enum CommandOutcome: Sendable, Equatable {
    /// The reply is complete and may be sent now.
    case replied
    /// The reply may only be sent once the write behind this ticket satisfies the fsync policy.
    case awaitDurability(DurabilityTicket)
    /// Send the reply, then close the connection.
    case close
    /// The reply comes from the cluster shell later; the connection keeps its place in the pipeline.
    case awaitCluster(ClusterCall)
}

/// Runs one client command against the node: checks authentication and arity, dispatches, and appends
/// the reply to the connection's outbound buffer. No I/O of its own beyond the storage engine, so the
/// whole command surface is testable without sockets.
public struct CommandExecutor: Sendable {
    let context: NodeContext
    let stats: NodeStats.Shard
    let table = CommandTable.shared

    public init(context: NodeContext, statsShard: Int) {
        self.context = context
        self.stats = context.stats.shards[statsShard % context.stats.shards.count]
    }

    var engine: StorageEngine { context.engine }

    public func execute(_ command: RESPCommand, session: inout ClientSession, out: inout ByteBuffer) -> CommandOutcome {
        stats.commands.bump()
        session.commandsProcessed += 1
        guard command.count > 0 else { return .replied }
        guard let spec = table.lookup(command[0]) else {
            return error(&out, unknownCommandMessage(command))
        }
        if !session.authenticated && !spec.allowedUnauthenticated {
            return error(&out, "NOAUTH Authentication required.")
        }
        guard spec.accepts(argumentCount: command.count) else {
            return error(&out, "ERR wrong number of arguments for '\(spec.name)' command")
        }
        if spec.deniedWhenOutOfMemory && context.memoryLimit.refusesWrites() {
            return error(&out, MemoryLimit.errorMessage)
        }
        if let outcome = clusterCommand(spec.kind, command, session, &out) { return outcome }
        switch spec.kind {
        case .kvGet, .kvPut, .kvDel, .kvGetLocal, .kvRepair, .clusterMembers, .clusterRing,
             .clusterJoin, .clusterLeave, .clusterRemove, .clusterRebalance:
            return error(&out, "ERR this node is not part of a cluster")
        case .get: return get(command, session, &out)
        case .set: return set(command, session, &out)
        case .setnx: return setNX(command, &out)
        case .setex: return setEX(command, &out)
        case .del, .unlink: return delete(command, &out)
        case .exists: return exists(command, &out)
        case .mget: return mget(command, session, &out)
        case .mset: return mset(command, &out)
        case .strlen: return strlen(command, &out)
        case .type: return type(command, &out)
        case .ttl: return ttl(command, &out, millis: false)
        case .pttl: return ttl(command, &out, millis: true)
        case .dbsize:
            out.writeRESPInteger(Int64(engine.count))
            return .replied
        case .flushall, .flushdb: return flushAll(command, &out)
        case .ping: return ping(command, session, &out)
        case .echo:
            out.writeRESPBulkString(command[1])
            return .replied
        case .info: return info(command, session, &out)
        case .auth: return auth(command, &session, &out)
        case .hello: return hello(command, &session, &out)
        case .command: return commandInfo(command, session, &out)
        case .config: return config(command, session, &out)
        case .client: return client(command, &session, &out)
        case .select: return select(command, &out)
        case .time: return time(&out)
        case .quit:
            out.writeRESPSimpleString("OK")
            return .close
        case .reset:
            session.protocolVersion = .v2
            session.name = ""
            session.authenticated = context.configuration.requirePassword == nil
            out.writeRESPSimpleString("RESET")
            return .replied
        }
    }

    /// Writes an error reply and counts it.
    func error(_ out: inout ByteBuffer, _ message: String) -> CommandOutcome {
        stats.errorReplies.bump()
        out.writeRESPError(message)
        return .replied
    }

    /// Turns a write's ticket into the outcome the connection needs.
    func acknowledge(_ ticket: DurabilityTicket) -> CommandOutcome {
        engine.isAcknowledgeable(ticket) ? .replied : .awaitDurability(ticket)
    }

    func storageError(_ out: inout ByteBuffer, _ e: StorageError) -> CommandOutcome {
        error(&out, "ERR \(e)")
    }

    private func unknownCommandMessage(_ command: RESPCommand) -> String {
        var text = "ERR unknown command '\(printable(command[0]))', with args beginning with:"
        for i in 1..<min(command.count, 8) {
            text += " '\(printable(command[i]))'"
        }
        return text
    }

    /// A short, single-line rendering of client bytes for error messages.
    func printable(_ buffer: ByteBuffer) -> String {
        var b = buffer
        let bytes = b.readBytes(length: min(b.readableBytes, 128)) ?? []
        return String(decoding: bytes.map { ($0 < 32 || $0 == 127) ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }
}
