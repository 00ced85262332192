import FuzzShim
import NIOCore
import RESP

// Input: [split][limits][stream...]. The stream is parsed twice, once whole and once in two reads
// split at a point the fuzzer chooses (with the read bytes discarded in between, as
// ByteToMessageDecoder does); both must give the same commands/replies (see `Outcome.agrees`).
// Small limits (chosen by the second byte) make the over-limit paths reachable.

/// Limits from one fuzzer byte: two bits each for bulk length, array length, line length, nesting.
func limits(_ b: UInt8) -> RESPLimits {
    RESPLimits(
        maxBulkLength: [0, 5, 64, 1 << 20][Int(b & 3)],
        maxArrayLength: [0, 3, 16, 1 << 20][Int(b >> 2 & 3)],
        maxInlineLength: [0, 12, 64, 1 << 16][Int(b >> 4 & 3)],
        maxNestingDepth: [0, 2, 8, 32][Int(b >> 6 & 3)]
    )
}

/// What parsing a stream produced: every complete item, then the error if one stopped it.
struct Outcome<Item: Equatable>: Equatable {
    var items: [Item] = []
    var error: RESPProtocolError?

    /// The same items, and the same error if both saw one. One side may see an error the other
    /// does not yet: a parser waiting for the rest of a value does not re-check its bytes until
    /// enough have arrived, so split reads can defer the error to a later read.
    func agrees(with other: Outcome) -> Bool {
        guard items == other.items else { return false }
        guard let error, let otherError = other.error else { return true }
        return error == otherError
    }

    /// The same outcome with every item transformed.
    func map<T>(_ transform: (Item) -> T) -> Outcome<T> {
        Outcome<T>(items: items.map(transform), error: error)
    }
}

/// A reply's RESP3 encoding: compares values byte for byte (a decoded NaN is not equal to itself).
func encoded(_ value: RESPValue) -> ByteBuffer {
    var out = ByteBuffer()
    out.writeRESPValue(value, version: .v3)
    return out
}

/// Drains `next` until it needs more bytes or fails; returns false once an error is recorded.
func drain<Item>(_ outcome: inout Outcome<Item>, _ next: () throws(RESPProtocolError) -> Item?) -> Bool {
    while true {
        do {
            guard let item = try next() else { return true }
            outcome.items.append(item)
        } catch {
            outcome.error = error
            return false
        }
    }
}

/// Parses `chunks` as successive reads into one buffer with `makeNext`'s parser.
func parse<Item>(
    _ chunks: [ArraySlice<UInt8>],
    _ next: (inout ByteBuffer) throws(RESPProtocolError) -> Item?
) -> Outcome<Item> {
    var outcome = Outcome<Item>()
    var buffer = ByteBuffer()
    for chunk in chunks {
        buffer.discardReadBytes()
        buffer.writeBytes(chunk)
        guard drain(&outcome, { () throws(RESPProtocolError) -> Item? in try next(&buffer) }) else { break }
    }
    return outcome
}

/// Touches every argument of a command the way the server does (name lookup, raw bytes).
func exercise(_ command: RESPCommand) {
    _ = command.name
    _ = command.argument(1, equalsUppercased: "NX")
    for i in 0..<command.count {
        let length = command.withArgumentBytes(i) { $0.count }
        precondition(length == command[i].readableBytes, "argument \(i) views disagree")
    }
}

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size >= 2 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let stream = input[2...]
    let cut = stream.startIndex + stream.count * Int(input[0]) / 256
    let whole = [stream]
    let split = [stream[..<cut], stream[cut...]]
    let limits = limits(input[1])

    var commandParser = RESPCommandParser(limits: limits)
    let commands = parse(whole) { (b: inout ByteBuffer) throws(RESPProtocolError) in try commandParser.next(from: &b) }
    commandParser = RESPCommandParser(limits: limits)
    let commandsSplit = parse(split) { (b: inout ByteBuffer) throws(RESPProtocolError) in try commandParser.next(from: &b) }
    commands.items.forEach(exercise)
    precondition(commands.agrees(with: commandsSplit), "command parser: split reads changed the result")

    var valueParser = RESPValueParser(limits: limits)
    let values = parse(whole) { (b: inout ByteBuffer) throws(RESPProtocolError) in try valueParser.next(from: &b) }
    valueParser = RESPValueParser(limits: limits)
    let valuesSplit = parse(split) { (b: inout ByteBuffer) throws(RESPProtocolError) in try valueParser.next(from: &b) }
    precondition(values.map(encoded).agrees(with: valuesSplit.map(encoded)), "value parser: split reads changed the result")
    return 0
}

/// libFuzzer's per-input entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data, size)
}

/// SwiftPM links executables with `--defsym main=RESPFuzz_main`; hand control to libFuzzer.
@_cdecl("RESPFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in testOneInput(data, size) }
}
