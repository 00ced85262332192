import KVStorage
import NIOCore
import RESP

/// Connection and server commands: PING, AUTH, HELLO, COMMAND, CONFIG, CLIENT, SELECT, TIME.
extension CommandExecutor {
    static let serverName = "kvnode"
    static let serverVersion = "0.1.0"

    func ping(_ command: RESPCommand, _ session: ClientSession, _ out: inout ByteBuffer) -> CommandOutcome {
        switch command.count {
        case 1: out.writeRESPSimpleString("PONG")
        case 2: out.writeRESPBulkString(command[1])
        default: return error(&out, "ERR wrong number of arguments for 'ping' command")
        }
        return .replied
    }

    func auth(_ command: RESPCommand, _ session: inout ClientSession, _ out: inout ByteBuffer) -> CommandOutcome {
        guard command.count <= 3 else { return error(&out, "ERR syntax error") }
        let user: ByteBuffer? = command.count == 3 ? command[1] : nil
        guard context.configuration.requirePassword != nil else {
            if user == nil {
                return error(&out, "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
            }
            return error(&out, "WRONGPASS invalid username-password pair or user is disabled.")
        }
        if authenticate(user: user, password: command[command.count - 1]) {
            session.authenticated = true
            out.writeRESPSimpleString("OK")
            return .replied
        }
        return error(&out, "WRONGPASS invalid username-password pair or user is disabled.")
    }

    private func authenticate(user: ByteBuffer?, password: ByteBuffer) -> Bool {
        if let user, !ArgumentDecoding.equalsIgnoringCase(user, "default") { return false }
        var p = password
        return context.passwordMatches(p.readBytes(length: p.readableBytes) ?? [])
    }

    func hello(_ command: RESPCommand, _ session: inout ClientSession, _ out: inout ByteBuffer) -> CommandOutcome {
        var version = session.protocolVersion
        var i = 1
        if command.count > 1 {
            guard let v = ArgumentDecoding.int64(command[1]) else {
                return error(&out, "ERR Protocol version is not an integer or out of range")
            }
            guard v == 2 || v == 3 else { return error(&out, "NOPROTO unsupported protocol version") }
            version = v == 3 ? .v3 : .v2
            i = 2
        }
        var newName: String?
        var authenticatedNow = false
        while i < command.count {
            if ArgumentDecoding.equalsIgnoringCase(command[i], "AUTH"), i + 2 < command.count {
                guard context.configuration.requirePassword != nil,
                      authenticate(user: command[i + 1], password: command[i + 2]) else {
                    return error(&out, "WRONGPASS invalid username-password pair or user is disabled.")
                }
                authenticatedNow = true
                i += 3
            } else if ArgumentDecoding.equalsIgnoringCase(command[i], "SETNAME"), i + 1 < command.count {
                newName = ArgumentDecoding.string(command[i + 1])
                i += 2
            } else {
                return error(&out, "ERR Syntax error in HELLO option '\(printable(command[i]))'")
            }
        }
        if !session.authenticated && !authenticatedNow {
            return error(&out, "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
        }
        if authenticatedNow { session.authenticated = true }
        if let newName { session.name = newName }
        session.protocolVersion = version
        out.writeRESPMapHeader(7, version)
        out.writeRESPBulkString("server"); out.writeRESPBulkString(Self.serverName)
        out.writeRESPBulkString("version"); out.writeRESPBulkString(Self.serverVersion)
        out.writeRESPBulkString("proto"); out.writeRESPInteger(Int64(version.rawValue))
        out.writeRESPBulkString("id"); out.writeRESPInteger(Int64(session.id))
        out.writeRESPBulkString("mode"); out.writeRESPBulkString("standalone")
        out.writeRESPBulkString("role"); out.writeRESPBulkString("master")
        out.writeRESPBulkString("modules"); out.writeRESPArrayHeader(0)
        return .replied
    }

    func select(_ command: RESPCommand, _ out: inout ByteBuffer) -> CommandOutcome {
        guard let db = ArgumentDecoding.int64(command[1]) else {
            return error(&out, "ERR value is not an integer or out of range")
        }
        guard db == 0 else { return error(&out, "ERR DB index is out of range") }
        out.writeRESPSimpleString("OK")
        return .replied
    }

    func time(_ out: inout ByteBuffer) -> CommandOutcome {
        let micros = Clock.nowMicros()
        out.writeRESPArrayHeader(2)
        out.writeRESPBulkString(String(micros / 1_000_000))
        out.writeRESPBulkString(String(micros % 1_000_000))
        return .replied
    }

    // MARK: COMMAND

    func commandInfo(_ command: RESPCommand, _ session: ClientSession, _ out: inout ByteBuffer) -> CommandOutcome {
        if command.count == 1 {
            out.writeRESPArrayHeader(table.specs.count)
            for spec in table.specs { writeCommandEntry(spec, session, &out) }
            return .replied
        }
        let sub = command[1]
        if ArgumentDecoding.equalsIgnoringCase(sub, "COUNT") {
            out.writeRESPInteger(Int64(table.specs.count))
        } else if ArgumentDecoding.equalsIgnoringCase(sub, "INFO") {
            if command.count == 2 {
                out.writeRESPArrayHeader(table.specs.count)
                for spec in table.specs { writeCommandEntry(spec, session, &out) }
            } else {
                out.writeRESPArrayHeader(command.count - 2)
                for i in 2..<command.count {
                    if let spec = table.lookup(command[i]) {
                        writeCommandEntry(spec, session, &out)
                    } else {
                        out.writeRESPNull(session.protocolVersion)
                    }
                }
            }
        } else if ArgumentDecoding.equalsIgnoringCase(sub, "LIST") {
            out.writeRESPArrayHeader(table.specs.count)
            for spec in table.specs { out.writeRESPBulkString(spec.name) }
        } else if ArgumentDecoding.equalsIgnoringCase(sub, "DOCS") {
            // No documentation is published; clients such as redis-cli fall back to plain completion.
            out.writeRESPMapHeader(0, session.protocolVersion)
        } else {
            return error(&out, "ERR unknown subcommand '\(printable(sub))'. Try COMMAND HELP.")
        }
        return .replied
    }

    private func writeCommandEntry(_ spec: CommandSpec, _ session: ClientSession, _ out: inout ByteBuffer) {
        out.writeRESPArrayHeader(10)
        out.writeRESPBulkString(spec.name)
        out.writeRESPInteger(Int64(spec.arity))
        out.writeRESPSetHeader(spec.flags.count, session.protocolVersion)
        for f in spec.flags { out.writeRESPSimpleString(f.utf8) }
        out.writeRESPInteger(Int64(spec.firstKey))
        out.writeRESPInteger(Int64(spec.lastKey))
        out.writeRESPInteger(Int64(spec.keyStep))
        out.writeRESPSetHeader(0, session.protocolVersion)   // ACL categories
        out.writeRESPArrayHeader(0)                           // tips
        out.writeRESPArrayHeader(0)                           // key specs
        out.writeRESPArrayHeader(0)                           // subcommands
    }

    // MARK: CONFIG

    /// The settings CONFIG GET reports (read-only: they are set by flags at start).
    func configValues() -> [(String, String)] {
        let c = context.configuration
        return [
            ("appendfsync", c.fsync.rawValue),
            ("appendonly", "yes"),
            ("bind", c.host),
            ("databases", "1"),
            ("dir", c.dataDirectory),
            ("maxclients", String(c.maxClients)),
            ("maxmemory", String(c.maxMemoryBytes ?? 0)),
            ("port", String(context.boundPort.load(ordering: .relaxed))),
            ("proto-max-bulk-len", String(c.maxBulkLength)),
            ("requirepass", c.requirePassword == nil ? "" : "********"),
            ("save", ""),
            ("timeout", "0"),
            ("io-threads", String(c.threads)),
        ]
    }

    func config(_ command: RESPCommand, _ session: ClientSession, _ out: inout ByteBuffer) -> CommandOutcome {
        let sub = command[1]
        if ArgumentDecoding.equalsIgnoringCase(sub, "GET") {
            guard command.count >= 3 else {
                return error(&out, "ERR wrong number of arguments for 'config|get' command")
            }
            var matches: [(String, String)] = []
            for (name, value) in configValues() {
                for i in 2..<command.count {
                    var p = command[i]
                    let pattern = p.readBytes(length: p.readableBytes) ?? []
                    if ArgumentDecoding.globMatches(pattern: pattern, Array(name.utf8)) {
                        matches.append((name, value))
                        break
                    }
                }
            }
            out.writeRESPMapHeader(matches.count, session.protocolVersion)
            for (name, value) in matches {
                out.writeRESPBulkString(name)
                out.writeRESPBulkString(value)
            }
            return .replied
        }
        if ArgumentDecoding.equalsIgnoringCase(sub, "SET") {
            return error(&out, "ERR CONFIG SET is not supported by kvnode: settings are fixed by command-line flags at start")
        }
        if ArgumentDecoding.equalsIgnoringCase(sub, "RESETSTAT") {
            return error(&out, "ERR CONFIG RESETSTAT is not supported by kvnode")
        }
        return error(&out, "ERR unknown subcommand '\(printable(sub))'. Try CONFIG HELP.")
    }

    // MARK: CLIENT

    func client(_ command: RESPCommand, _ session: inout ClientSession, _ out: inout ByteBuffer) -> CommandOutcome {
        let sub = command[1]
        if ArgumentDecoding.equalsIgnoringCase(sub, "ID") {
            out.writeRESPInteger(Int64(session.id))
        } else if ArgumentDecoding.equalsIgnoringCase(sub, "GETNAME") {
            if session.name.isEmpty { out.writeRESPNull(session.protocolVersion) } else { out.writeRESPBulkString(session.name) }
        } else if ArgumentDecoding.equalsIgnoringCase(sub, "SETNAME"), command.count == 3 {
            let name = ArgumentDecoding.string(command[2])
            guard !name.utf8.contains(where: { $0 <= 32 || $0 >= 127 }) else {
                return error(&out, "ERR Client names cannot contain spaces, newlines or special characters.")
            }
            session.name = name
            out.writeRESPSimpleString("OK")
        } else if ArgumentDecoding.equalsIgnoringCase(sub, "SETINFO"), command.count == 4 {
            let value = ArgumentDecoding.string(command[3])
            if ArgumentDecoding.equalsIgnoringCase(command[2], "LIB-NAME") {
                session.libraryName = value
            } else if ArgumentDecoding.equalsIgnoringCase(command[2], "LIB-VER") {
                session.libraryVersion = value
            } else {
                return error(&out, "ERR Unrecognized option '\(printable(command[2]))'")
            }
            out.writeRESPSimpleString("OK")
        } else if ArgumentDecoding.equalsIgnoringCase(sub, "INFO") {
            out.writeRESPBulkString(clientLine(session))
        } else {
            return error(&out, "ERR unknown subcommand '\(printable(sub))'. Try CLIENT HELP.")
        }
        return .replied
    }

    func clientLine(_ session: ClientSession) -> String {
        let age = (StorageConfiguration.wallClockMillis() - session.connectedAtMillis) / 1000
        return "id=\(session.id) addr=\(session.remoteAddress) name=\(session.name) age=\(age) db=0 "
            + "resp=\(session.protocolVersion.rawValue) lib-name=\(session.libraryName) lib-ver=\(session.libraryVersion) "
            + "cmds=\(session.commandsProcessed)\n"
    }
}
