import KVStorage
import NIOCore
import RESP

/// The string-key commands: GET, SET and its variants, DEL, EXISTS, MGET, MSET, STRLEN, TYPE, TTL.
extension CommandExecutor {
    func get(_ command: RESPCommand, _ session: ClientSession, _ out: inout ByteBuffer) -> CommandOutcome {
        writeValue(command, 1, session, &out)
        return .replied
    }

    /// Appends the value of the key in argument `index` as a bulk string (or the null reply) and counts
    /// the hit or miss. Reads the key in place: no slice, no reference counting.
    private func writeValue(_ command: RESPCommand, _ index: Int, _ session: ClientSession, _ out: inout ByteBuffer) {
        let found = command.withArgumentBytes(index) { k in
            engine.withValue(forKey: k) { value -> Bool in
                guard let value else { return false }
                out.writeRESPBulkString(value)
                return true
            }
        }
        if found {
            stats.keyspaceHits.bump()
        } else {
            stats.keyspaceMisses.bump()
            out.writeRESPNull(session.protocolVersion)
        }
    }

    func set(_ command: RESPCommand, _ session: ClientSession, _ out: inout ByteBuffer) -> CommandOutcome {
        var condition = SetCondition.always
        var ttl = TTLUpdate.clear
        var sawExpiry = false
        var i = 3
        while i < command.count {
            let arg = command[i]
            let hasNext = i + 1 < command.count
            if ArgumentDecoding.equalsIgnoringCase(arg, "NX"), condition == .always {
                condition = .ifAbsent
            } else if ArgumentDecoding.equalsIgnoringCase(arg, "XX"), condition == .always {
                condition = .ifPresent
            } else if ArgumentDecoding.equalsIgnoringCase(arg, "KEEPTTL"), !sawExpiry {
                ttl = .keep
                sawExpiry = true
            } else if ArgumentDecoding.equalsIgnoringCase(arg, "GET") {
                return error(&out, "ERR the GET option of SET is not supported by kvnode")
            } else if hasNext, !sawExpiry, let unit = expiryUnit(arg) {
                guard let amount = ArgumentDecoding.int64(command[i + 1]) else {
                    return error(&out, "ERR value is not an integer or out of range")
                }
                guard let at = absoluteExpiry(amount, unit) else {
                    return error(&out, "ERR invalid expire time in 'set' command")
                }
                ttl = .expireAt(at)
                sawExpiry = true
                i += 1
            } else {
                return error(&out, "ERR syntax error")
            }
            i += 1
        }
        return store(command, key: 1, value: 2, ttl: ttl, condition: condition, &out, reply: .okOrNull(session.protocolVersion))
    }

    func setNX(_ command: RESPCommand, _ out: inout ByteBuffer) -> CommandOutcome {
        store(command, key: 1, value: 2, ttl: .clear, condition: .ifAbsent, &out, reply: .appliedAsInteger)
    }

    func setEX(_ command: RESPCommand, _ out: inout ByteBuffer) -> CommandOutcome {
        guard let seconds = ArgumentDecoding.int64(command[2]) else {
            return error(&out, "ERR value is not an integer or out of range")
        }
        guard let at = absoluteExpiry(seconds, .seconds) else {
            return error(&out, "ERR invalid expire time in 'setex' command")
        }
        return store(command, key: 1, value: 3, ttl: .expireAt(at), condition: .always, &out, reply: .ok)
    }

    enum StoreReply { case ok, okOrNull(RESPVersion), appliedAsInteger }

    /// Stores argument `value` under argument `key`, reading both in place.
    private func store(_ command: RESPCommand, key: Int, value: Int, ttl: TTLUpdate, condition: SetCondition,
                       _ out: inout ByteBuffer, reply: StoreReply) -> CommandOutcome {
        let result: Result<WriteOutcome, StorageError> = command.withArgumentBytes(key) { k in
            command.withArgumentBytes(value) { v in
                Result { () throws(StorageError) in try engine.set(key: k, value: v, ttl: ttl, condition: condition) }
            }
        }
        let outcome: WriteOutcome
        switch result {
        case .success(let o): outcome = o
        case .failure(let error): return storageError(&out, error)
        }
        switch reply {
        case .ok:
            out.writeRESPSimpleString("OK")
        case .okOrNull(let version):
            if outcome.applied { out.writeRESPSimpleString("OK") } else { out.writeRESPNull(version) }
        case .appliedAsInteger:
            out.writeRESPInteger(outcome.applied ? 1 : 0)
        }
        return outcome.applied ? acknowledge(outcome.ticket) : .replied
    }

    enum ExpiryUnit { case seconds, millis, unixSeconds, unixMillis }

    private func expiryUnit(_ arg: ByteBuffer) -> ExpiryUnit? {
        if ArgumentDecoding.equalsIgnoringCase(arg, "EX") { return .seconds }
        if ArgumentDecoding.equalsIgnoringCase(arg, "PX") { return .millis }
        if ArgumentDecoding.equalsIgnoringCase(arg, "EXAT") { return .unixSeconds }
        if ArgumentDecoding.equalsIgnoringCase(arg, "PXAT") { return .unixMillis }
        return nil
    }

    /// Absolute expiry in ms since the epoch, or nil when the amount is not positive or overflows.
    private func absoluteExpiry(_ amount: Int64, _ unit: ExpiryUnit) -> Int64? {
        guard amount > 0 else { return nil }
        let now = context.configuration.clock()
        switch unit {
        case .seconds:
            let (ms, o1) = amount.multipliedReportingOverflow(by: 1000)
            let (at, o2) = now.addingReportingOverflow(ms)
            return o1 || o2 ? nil : at
        case .millis:
            let (at, o) = now.addingReportingOverflow(amount)
            return o ? nil : at
        case .unixSeconds:
            let (ms, o) = amount.multipliedReportingOverflow(by: 1000)
            return o ? nil : ms
        case .unixMillis:
            return amount
        }
    }

    func delete(_ command: RESPCommand, _ out: inout ByteBuffer) -> CommandOutcome {
        var removed: Int64 = 0
        var last: DurabilityTicket?
        for i in 1..<command.count {
            do {
                let outcome = try command[i].withUnsafeReadableBytes { k throws(StorageError) in try engine.delete(key: k) }
                if outcome.applied {
                    removed += 1
                    last = outcome.ticket
                }
            } catch {
                return storageError(&out, error)
            }
        }
        if removed > 0 { context.memoryLimit.invalidate() }
        out.writeRESPInteger(removed)
        return last.map(acknowledge) ?? .replied
    }

    func exists(_ command: RESPCommand, _ out: inout ByteBuffer) -> CommandOutcome {
        var found: Int64 = 0
        for i in 1..<command.count where command[i].withUnsafeReadableBytes({ engine.exists($0) }) {
            found += 1
        }
        out.writeRESPInteger(found)
        return .replied
    }

    func mget(_ command: RESPCommand, _ session: ClientSession, _ out: inout ByteBuffer) -> CommandOutcome {
        out.writeRESPArrayHeader(command.count - 1)
        for i in 1..<command.count {
            writeValue(command, i, session, &out)
        }
        return .replied
    }

    func mset(_ command: RESPCommand, _ out: inout ByteBuffer) -> CommandOutcome {
        guard command.count % 2 == 1 else {
            return error(&out, "ERR wrong number of arguments for 'mset' command")
        }
        var last: DurabilityTicket?
        var i = 1
        while i < command.count {
            do {
                let key = command[i], value = command[i + 1]
                let outcome = try key.withUnsafeReadableBytes { k throws(StorageError) in
                    try value.withUnsafeReadableBytes { v throws(StorageError) in try engine.set(key: k, value: v) }
                }
                last = outcome.ticket
            } catch {
                return storageError(&out, error)
            }
            i += 2
        }
        out.writeRESPSimpleString("OK")
        return last.map(acknowledge) ?? .replied
    }

    func strlen(_ command: RESPCommand, _ out: inout ByteBuffer) -> CommandOutcome {
        let length = command[1].withUnsafeReadableBytes { k in engine.withValue(forKey: k) { $0?.count ?? 0 } }
        out.writeRESPInteger(Int64(length))
        return .replied
    }

    func type(_ command: RESPCommand, _ out: inout ByteBuffer) -> CommandOutcome {
        let present = command[1].withUnsafeReadableBytes { engine.exists($0) }
        if present { out.writeRESPSimpleString("string") } else { out.writeRESPSimpleString("none") }
        return .replied
    }

    func ttl(_ command: RESPCommand, _ out: inout ByteBuffer, millis: Bool) -> CommandOutcome {
        let remaining = command[1].withUnsafeReadableBytes { engine.ttlMillis(key: $0) }
        switch remaining {
        case nil: out.writeRESPInteger(-2)
        case .some(Int64(-1)): out.writeRESPInteger(-1)
        case let ms?: out.writeRESPInteger(millis ? ms : (ms + 500) / 1000)
        }
        return .replied
    }

    func flushAll(_ command: RESPCommand, _ out: inout ByteBuffer) -> CommandOutcome {
        if command.count > 2 || (command.count == 2
            && !ArgumentDecoding.equalsIgnoringCase(command[1], "SYNC")
            && !ArgumentDecoding.equalsIgnoringCase(command[1], "ASYNC")) {
            return error(&out, "ERR syntax error")
        }
        do {
            let ticket = try engine.flushAll()
            context.memoryLimit.invalidate()
            out.writeRESPSimpleString("OK")
            return acknowledge(ticket)
        } catch {
            return storageError(&out, error)
        }
    }
}
