import NIOCore
import Testing

@testable import RESP

extension SplitMix64 {
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func bytes(count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }

    /// Random chunk sizes covering `total` bytes (mostly small, sometimes large).
    mutating func chunkSizes(total: Int) -> [Int] {
        var sizes: [Int] = []
        var covered = 0
        while covered < total {
            let size = int(0...9) == 0 ? int(1...512) : int(1...8)
            sizes.append(size)
            covered += size
        }
        return sizes
    }
}

/// Index of the first command that differs (or the shorter length), nil when equal; keeps failure output short.
private func firstMismatch(_ a: [[[UInt8]]], _ b: [[[UInt8]]]) -> Int? {
    for i in 0..<min(a.count, b.count) where a[i] != b[i] { return i }
    return a.count == b.count ? nil : min(a.count, b.count)
}

@Suite("Property and fuzz-style tests")
struct PropertyTests {
    /// A random command and its encoding: multibulk with binary arguments, inline with plain or quoted words, or an empty multibulk.
    static func randomCommand(_ rng: inout SplitMix64) -> (encoded: [UInt8], expected: [[UInt8]]?) {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_".utf8)
        switch rng.int(0...9) {
        case 0...5:
            let count = rng.int(1...12)
            let arguments = (0..<count).map { _ in rng.bytes(count: rng.int(0...9) == 0 ? rng.int(100...600) : rng.int(0...20)) }
            var buffer = ByteBuffer()
            buffer.writeRESPCommand(arguments.map { ByteBuffer(bytes: $0) })
            return (Array(buffer.readableBytesView), arguments)
        case 6...7:
            let count = rng.int(1...6)
            let words = (0..<count).map { _ in (0..<rng.int(1...12)).map { _ in alphabet[rng.int(0...alphabet.count - 1)] } }
            let separator = rng.int(0...1) == 0 ? " " : " \t "
            let line = words.map { String(decoding: $0, as: UTF8.self) }.joined(separator: separator)
            return (Array((line + (rng.int(0...1) == 0 ? "\r\n" : "\n")).utf8), words)
        case 8:
            // Quoted inline arguments with escapes for arbitrary bytes.
            let count = rng.int(1...4)
            let arguments = (0..<count).map { _ in rng.bytes(count: rng.int(0...10)) }
            var line = ""
            for argument in arguments {
                line += "\""
                for byte in argument {
                    let hex = Array("0123456789abcdef")
                    line += "\\x" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
                }
                line += "\" "
            }
            return (Array((line + "\r\n").utf8), arguments)
        default:
            return (Array((rng.int(0...1) == 0 ? "*0\r\n" : "*-1\r\n").utf8), nil)
        }
    }

    @Test(arguments: [UInt64(1), 2, 3, 42, 0xDEAD_BEEF])
    func randomCommandsSplitAtRandomPointsParseTheSame(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var input: [UInt8] = []
        var expected: [[[UInt8]]] = []
        for _ in 0..<300 {
            let (encoded, arguments) = Self.randomCommand(&rng)
            input += encoded
            if let arguments { expected.append(arguments) }
        }
        let oneShot = parseCommands(input)
        #expect(oneShot.error == nil)
        #expect(oneShot.commands.count == expected.count)
        #expect(firstMismatch(oneShot.commands, expected) == nil, "seed \(seed)")
        for round in 0..<5 {
            let split = parseCommands(input, chunkSizes: rng.chunkSizes(total: input.count), discardEvery: round + 1)
            #expect(split.error == nil && split.leftover == 0, "seed \(seed) round \(round)")
            #expect(firstMismatch(split.commands, expected) == nil, "seed \(seed) round \(round)")
        }
    }

    /// Random RESP values up to a small depth.
    static func randomValue(_ rng: inout SplitMix64, depth: Int) -> RESPValue {
        let leafKinds = 10
        let kind = depth >= 3 ? rng.int(0...leafKinds - 1) : rng.int(0...leafKinds + 4)
        switch kind {
        case 0: return .simpleString(ByteBuffer(string: String(repeating: "s", count: rng.int(0...5))))
        case 1: return .error(ByteBuffer(string: "ERR " + String(rng.int(0...999))))
        case 2: return .integer(Int64(bitPattern: rng.next()))
        case 3: return .bulkString(rng.int(0...5) == 0 ? nil : ByteBuffer(bytes: rng.bytes(count: rng.int(0...40))))
        case 4: return .null
        case 5: return .double(Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF))  // finite, non-NaN
        case 6: return .boolean(rng.int(0...1) == 1)
        case 7: return .bigNumber(ByteBuffer(string: String(rng.next()) + String(rng.next())))
        case 8: return .verbatimString(format: "txt", ByteBuffer(bytes: rng.bytes(count: rng.int(0...10))))
        case 9: return .array(nil)
        case 10: return .array((0..<rng.int(0...4)).map { _ in randomValue(&rng, depth: depth + 1) })
        case 11: return .set((0..<rng.int(0...4)).map { _ in randomValue(&rng, depth: depth + 1) })
        case 12: return .push((0..<rng.int(0...4)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            return .map((0..<rng.int(0...3)).map { _ in RESPMapEntry(randomValue(&rng, depth: depth + 1), randomValue(&rng, depth: depth + 1)) })
        }
    }

    @Test(arguments: [UInt64(7), 8, 9])
    func randomValuesRoundTripAcrossRandomSplits(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let values = (0..<200).map { _ in Self.randomValue(&rng, depth: 0) }
        var buffer = ByteBuffer()
        for value in values { buffer.writeRESPValue(value, version: .v3) }
        let input = Array(buffer.readableBytesView)
        #expect(parseValues(input).values == values)
        let split = parseValues(input, chunkSizes: rng.chunkSizes(total: input.count))
        #expect(split.values == values)
        #expect(split.error == nil)
    }

    /// RESP-flavoured random bytes: protocol tokens mixed with noise.
    static func fuzzInput(_ rng: inout SplitMix64) -> [UInt8] {
        let tokens = ["*", "$", "\r\n", "\r", "\n", "-1", "0", "1", "2", "3", "10", "99999999999999999999", "-",
            "\"", "'", "\\", "\\x4", "\\x41", " ", "GET", "SET", "k", "+OK", ":", "%", "~", ">", "|", "_", "#t", ",1.5", "(1", "=5\r\ntxt:x", "!3", "?"]
        var input: [UInt8] = []
        for _ in 0..<rng.int(0...40) {
            if rng.int(0...4) == 0 {
                input += rng.bytes(count: rng.int(1...4))
            } else {
                input += Array(tokens[rng.int(0...tokens.count - 1)].utf8)
            }
        }
        return input
    }

    @Test func fuzzedBytesNeverCrashAndSplitsAgree() {
        var rng = SplitMix64(seed: 0xF00D)
        let limits = RESPLimits(maxBulkLength: 64, maxArrayLength: 8, maxInlineLength: 32, maxNestingDepth: 4)
        var outcomes = (commands: 0, errors: 0, values: 0, valueErrors: 0)
        for _ in 0..<3000 {
            let input = Self.fuzzInput(&rng)
            for limit in [RESPLimits(), limits] {
                let oneShot = parseCommands(input, limits: limit)
                let split = parseCommands(input, chunkSizes: rng.chunkSizes(total: input.count), limits: limit)
                #expect(split == oneShot, "input \(input)")
                outcomes.commands += oneShot.commands.count
                outcomes.errors += oneShot.error == nil ? 0 : 1

                let values = parseValues(input, limits: limit)
                let valuesSplit = parseValues(input, chunkSizes: rng.chunkSizes(total: input.count), limits: limit)
                #expect(values.values == valuesSplit.values && values.error == valuesSplit.error, "input \(input)")
                outcomes.values += values.values.count
                outcomes.valueErrors += values.error == nil ? 0 : 1
            }
        }
        // The generator exercises all three outcomes.
        #expect(outcomes.commands > 100)
        #expect(outcomes.errors > 100)
        #expect(outcomes.values > 100)
        #expect(outcomes.valueErrors > 100)
    }

    @Test func pureRandomBytesNeverCrash() {
        var rng = SplitMix64(seed: 12345)
        for _ in 0..<2000 {
            let input = rng.bytes(count: rng.int(0...64))
            let oneShot = parseCommands(input)
            #expect(parseCommands(input, chunkSizes: rng.chunkSizes(total: input.count)) == oneShot)
            let values = parseValues(input)
            let valuesSplit = parseValues(input, chunkSizes: rng.chunkSizes(total: input.count))
            #expect(values.values == valuesSplit.values && values.error == valuesSplit.error)
        }
    }
}
