import NIOCore
@testable import RESP

/// SplitMix64: a tiny seeded generator so property tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func bytes(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

func text(_ b: ByteBuffer) -> String { String(buffer: b) }

/// Everything a parser produced from a byte stream: the commands (as byte arrays), the error that
/// stopped it (if any) and how many bytes were left unconsumed.
struct CommandParseResult: Equatable, CustomStringConvertible {
    var commands: [[[UInt8]]] = []
    var error: RESPProtocolError?
    var leftover = 0

    var strings: [[String]] { commands.map { $0.map { String(decoding: $0, as: UTF8.self) } } }
    var description: String { "commands: \(strings), error: \(String(describing: error)), leftover: \(leftover)" }
}

/// Feeds `input` to a fresh command parser in chunks of the given sizes (the rest in one piece),
/// draining commands after every chunk like a channel handler would. With `discardEvery`, the
/// cumulation buffer discards its read bytes every so many chunks (like ByteToMessageDecoder).
func parseCommands(
    _ input: [UInt8], chunkSizes: [Int] = [], limits: RESPLimits = .init(), discardEvery: Int = 0
) -> CommandParseResult {
    var parser = RESPCommandParser(limits: limits)
    var buffer = ByteBufferAllocator().buffer(capacity: 16)
    var result = CommandParseResult()
    var position = 0
    var chunkIndex = 0
    while true {
        let size = chunkIndex < chunkSizes.count ? chunkSizes[chunkIndex] : input.count - position
        let end = min(input.count, position + size)
        buffer.writeBytes(input[position..<end])
        position = end
        chunkIndex += 1
        if discardEvery > 0 && chunkIndex % discardEvery == 0 { buffer.discardReadBytes() }
        do {
            while let command = try parser.next(from: &buffer) {
                result.commands.append(command.arguments.map { Array($0.readableBytesView) })
            }
        } catch {
            result.error = error
            result.leftover = input.count - position + buffer.readableBytes
            return result
        }
        if position >= input.count { break }
    }
    result.leftover = buffer.readableBytes
    return result
}

func parseCommands(_ input: String, limits: RESPLimits = .init()) -> CommandParseResult {
    parseCommands(Array(input.utf8), limits: limits)
}

/// Parses every reply in `input` (one shot, or fed in the given chunk sizes).
func parseValues(_ input: [UInt8], chunkSizes: [Int] = [], limits: RESPLimits = .init()) -> (values: [RESPValue], error: RESPProtocolError?, leftover: Int) {
    var parser = RESPValueParser(limits: limits)
    var buffer = ByteBufferAllocator().buffer(capacity: 16)
    var values: [RESPValue] = []
    var position = 0
    var chunkIndex = 0
    while true {
        let size = chunkIndex < chunkSizes.count ? chunkSizes[chunkIndex] : input.count - position
        let end = min(input.count, position + size)
        buffer.writeBytes(input[position..<end])
        position = end
        chunkIndex += 1
        do {
            while let value = try parser.next(from: &buffer) { values.append(value) }
        } catch {
            return (values, error, input.count - position + buffer.readableBytes)
        }
        if position >= input.count { break }
    }
    return (values, nil, buffer.readableBytes)
}

func parseValues(_ input: String, limits: RESPLimits = .init()) -> (values: [RESPValue], error: RESPProtocolError?, leftover: Int) {
    parseValues(Array(input.utf8), limits: limits)
}
