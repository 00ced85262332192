import KVPeer
import NIOCore
import Testing

@Suite struct PeerFramingTests {
    static let frames: [(PeerFrameType, [UInt8])] = [
        (.hello, Array("hello".utf8)),
        (.message, []),
        (.auth, Array(repeating: 0xAB, count: 32)),
        (.message, (0..<300).map { UInt8(truncatingIfNeeded: $0) }),
        (.error, [1] + Array("no".utf8)),
    ]

    static func stream() -> ByteBuffer {
        var buffer = ByteBuffer()
        for (type, payload) in frames { PeerFraming.write(type, payload: payload, into: &buffer) }
        return buffer
    }

    static func drain(_ decoder: inout PeerFrameDecoder) throws -> [(PeerFrameType, [UInt8])] {
        var out: [(PeerFrameType, [UInt8])] = []
        while let frame = try decoder.next() { out.append((frame.type, Array(frame.payload.readableBytesView))) }
        return out
    }

    static func same(_ a: [(PeerFrameType, [UInt8])], _ b: [(PeerFrameType, [UInt8])]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    @Test func writesLengthTypeAndPayload() {
        var buffer = ByteBuffer()
        PeerFraming.write(.message, payload: [7, 8, 9], into: &buffer)
        #expect(Array(buffer.readableBytesView) == [0, 0, 0, 4, 4, 7, 8, 9])
    }

    @Test func roundTrip() throws {
        var decoder = PeerFrameDecoder(maxFrameBytes: 1 << 20)
        decoder.append(Self.stream())
        #expect(Self.same(try Self.drain(&decoder), Self.frames))
        #expect(decoder.bufferedBytes == 0)
    }

    @Test func splitAtEveryByteBoundary() throws {
        let bytes = Array(Self.stream().readableBytesView)
        for cut in 0...bytes.count {
            var decoder = PeerFrameDecoder(maxFrameBytes: 1 << 20)
            decoder.append(ByteBuffer(bytes: bytes[..<cut]))
            var got = try Self.drain(&decoder)
            decoder.append(ByteBuffer(bytes: bytes[cut...]))
            got += try Self.drain(&decoder)
            #expect(Self.same(got, Self.frames), "cut at \(cut)")
        }
    }

    @Test func oneByteAtATime() throws {
        var decoder = PeerFrameDecoder(maxFrameBytes: 1 << 20)
        var got: [(PeerFrameType, [UInt8])] = []
        for byte in Self.stream().readableBytesView {
            decoder.append(ByteBuffer(bytes: [byte]))
            got += try Self.drain(&decoder)
        }
        #expect(Self.same(got, Self.frames))
    }

    @Test func oversizeFrameIsRejectedFromItsHeader() throws {
        var decoder = PeerFrameDecoder(maxFrameBytes: 100)
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(101))
        decoder.append(buffer)
        #expect(throws: PeerFrameError.oversize(length: 101, max: 100)) { try decoder.next() }

        var exact = PeerFrameDecoder(maxFrameBytes: 100)
        var frame = ByteBuffer()
        PeerFraming.write(.message, payload: [UInt8](repeating: 1, count: 99), into: &frame)
        exact.append(frame)
        #expect(try exact.next()?.payload.readableBytes == 99)
    }

    @Test func emptyAndUnknownFramesAreRejected() {
        var empty = PeerFrameDecoder(maxFrameBytes: 100)
        empty.append(ByteBuffer(bytes: [0, 0, 0, 0]))
        #expect(throws: PeerFrameError.emptyFrame) { try empty.next() }

        var unknown = PeerFrameDecoder(maxFrameBytes: 100)
        unknown.append(ByteBuffer(bytes: [0, 0, 0, 2, 9, 0]))
        #expect(throws: PeerFrameError.unknownType(9)) { try unknown.next() }
    }

    @Test func backoffDoublesUpToTheCapWithJitter() {
        let initial = TimeAmount.milliseconds(50), cap = TimeAmount.seconds(2)
        #expect(PeerBackoff.delay(attempt: 0, initial: initial, max: cap, unitRandom: 1) == .milliseconds(50))
        #expect(PeerBackoff.delay(attempt: 0, initial: initial, max: cap, unitRandom: 0) == .milliseconds(25))
        #expect(PeerBackoff.delay(attempt: 3, initial: initial, max: cap, unitRandom: 1) == .milliseconds(400))
        #expect(PeerBackoff.delay(attempt: 10, initial: initial, max: cap, unitRandom: 1) == .seconds(2))
        #expect(PeerBackoff.delay(attempt: 1000, initial: initial, max: cap, unitRandom: 0.5) == .milliseconds(1500))
    }
}
