import NIOCore

// The kvnode peer protocol (node-to-node traffic), version 1.
//
// Frames. Every frame is
//
//     length: UInt32 big-endian   bytes that follow (the type byte plus the payload), at least 1
//     type:   UInt8               1 HELLO, 2 AUTH, 3 ERROR, 4 MESSAGE
//     payload: length - 1 bytes
//
// A length above the configured maximum (`PeerTransportConfiguration.maxFrameBytes`; before the
// handshake finishes, `PeerFrameDecoder.handshakeMaxFrameBytes`), a length of 0, or an unknown type
// closes the connection with a logged reason.
//
// Handshake, before any MESSAGE:
//
//     dialer   → acceptor  HELLO
//     acceptor → dialer    HELLO                      (or ERROR, then close)
//     with a cluster secret, each side then sends
//     acceptor → dialer    AUTH  (sent right after its HELLO)
//     dialer   → acceptor  AUTH  (sent once the acceptor's AUTH verified)
//
// HELLO payload: magic "KVPEER" (6 bytes), protocol version (UInt16 BE), flags (UInt8; bit 0: this
// side has a cluster secret and demands AUTH), nonce (32 random bytes), node id (UInt8 length + UTF-8,
// 1...255 bytes), client address "host:port" (UInt16 length + UTF-8, at most 1024 bytes), nothing after.
//
// AUTH payload: HMAC-SHA256(secret, transcript), 32 bytes, where transcript is
// "KVPEER-AUTH-1" ‖ direction ("D" for the dialer's proof, "A" for the acceptor's) ‖ the dialer's HELLO
// payload ‖ the acceptor's HELLO payload, each HELLO preceded by its UInt32 BE length. The transcript
// binds both nonces, both node ids, both client addresses and the direction, so a proof cannot be replayed
// on another connection nor reflected back; the secret itself never crosses the wire. Proofs are compared in
// constant time.
//
// ERROR payload: reason code (UInt8: 1 auth, 2 version, 3 timeout, 4 malformed, 5 identity) then a UTF-8 text.
// The sender closes the connection after it.
//
// MESSAGE payload: `ClusterCoding.encode(message)` (its own version byte and checksum). Only after the
// handshake; a payload that does not decode closes the connection.

/// The type byte of a peer-protocol frame.
public enum PeerFrameType: UInt8, Sendable {
    case hello = 1
    case auth = 2
    case error = 3
    case message = 4
}

/// One decoded frame: its type and its payload (a slice of the received bytes).
public struct PeerFrame: Sendable, Equatable {
    public var type: PeerFrameType
    public var payload: ByteBuffer

    public init(type: PeerFrameType, payload: ByteBuffer) {
        self.type = type
        self.payload = payload
    }
}

/// Why a byte stream is not a valid sequence of frames.
public enum PeerFrameError: Error, Equatable, CustomStringConvertible {
    /// The length prefix announces more than the allowed maximum.
    case oversize(length: Int, max: Int)
    /// A length of 0 (no type byte).
    case emptyFrame
    /// A type byte that is not a known frame type.
    case unknownType(UInt8)

    public var description: String {
        switch self {
        case let .oversize(length, max): "frame of \(length) bytes exceeds the maximum of \(max)"
        case .emptyFrame: "frame with length 0"
        case let .unknownType(t): "unknown frame type \(t)"
        }
    }
}

/// Frame writer and reader (pure: bytes in, frames out).
public enum PeerFraming {
    /// Bytes of the length prefix plus the type byte.
    public static let headerBytes = 5

    /// Appends one frame to `buffer` (one reservation, header and payload written in place).
    @inlinable
    public static func write<Bytes: Collection>(_ type: PeerFrameType, payload: Bytes, into buffer: inout ByteBuffer)
    where Bytes.Element == UInt8 {
        let count = payload.count
        buffer.reserveCapacity(minimumWritableBytes: headerBytes + count)
        buffer.writeInteger(UInt32(truncatingIfNeeded: count + 1))
        buffer.writeInteger(type.rawValue)
        buffer.writeBytes(payload)
    }
}

/// Accumulates received bytes and cuts them into frames. Survives any split of the stream across reads.
public struct PeerFrameDecoder {
    /// Largest frame accepted before the handshake finishes (HELLO, AUTH and ERROR are small), so an
    /// unauthenticated peer cannot make the node buffer a large frame.
    public static let handshakeMaxFrameBytes = 4096

    /// Largest accepted frame length (type byte plus payload).
    public var maxFrameBytes: Int
    private var buffer: ByteBuffer?

    public init(maxFrameBytes: Int) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// Bytes received but not yet returned as frames.
    public var bufferedBytes: Int { buffer?.readableBytes ?? 0 }

    /// Adds received bytes.
    public mutating func append(_ bytes: ByteBuffer) {
        if var existing = buffer, existing.readableBytes > 0 {
            buffer = nil  // keep the storage uniquely referenced while appending
            if existing.readerIndex > 0, existing.readerIndex >= existing.capacity / 2 {
                existing.discardReadBytes()
            }
            var incoming = bytes
            existing.writeBuffer(&incoming)
            buffer = existing
        } else {
            buffer = bytes
        }
    }

    /// The next complete frame, nil when more bytes are needed; throws on an invalid frame (the stream
    /// cannot be resynchronised after that: close the connection).
    public mutating func next() throws(PeerFrameError) -> PeerFrame? {
        guard var buf = buffer, buf.readableBytes >= 4 else { return nil }
        let length = Int(buf.getInteger(at: buf.readerIndex, as: UInt32.self)!)
        guard length > 0 else { throw .emptyFrame }
        guard length <= maxFrameBytes else { throw .oversize(length: length, max: maxFrameBytes) }
        guard buf.readableBytes >= 4 + length else { return nil }
        let typeByte = buf.getInteger(at: buf.readerIndex + 4, as: UInt8.self)!
        guard let type = PeerFrameType(rawValue: typeByte) else { throw .unknownType(typeByte) }
        buffer = nil
        buf.moveReaderIndex(forwardBy: 5)
        let payload = buf.readSlice(length: length - 1)!
        buffer = buf.readableBytes == 0 ? nil : buf
        return PeerFrame(type: type, payload: payload)
    }
}
