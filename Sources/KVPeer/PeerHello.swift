import Crypto
import KVCluster
import NIOCore

/// Why a handshake was refused (counted per reason in `PeerTransportStats`; sent as the ERROR code).
public enum PeerHandshakeFailure: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Wrong, missing or unexpected cluster secret.
    case auth = 1
    /// Different protocol version.
    case version = 2
    /// The handshake did not finish in time.
    case timeout = 3
    /// A handshake frame that does not parse, or a frame out of order.
    case malformed = 4
    /// The peer claims this node's own id.
    case identity = 5

    public var description: String {
        switch self {
        case .auth: "auth"
        case .version: "version"
        case .timeout: "timeout"
        case .malformed: "malformed"
        case .identity: "identity"
        }
    }
}

/// The HELLO frame's content: who a side is and its fresh nonce (see the wire format in PeerFraming.swift).
public struct PeerHello: Sendable, Equatable {
    public static let magic: [UInt8] = Array("KVPEER".utf8)
    /// The protocol version this build speaks.
    public static let protocolVersion: UInt16 = 1
    public static let nonceBytes = 32
    public static let maxClientAddressBytes = 1024

    public var version: UInt16
    /// This side has a cluster secret and demands AUTH.
    public var requiresAuth: Bool
    public var nonce: [UInt8]
    public var nodeID: NodeID
    public var clientAddress: String

    public init(version: UInt16 = PeerHello.protocolVersion, requiresAuth: Bool, nonce: [UInt8], nodeID: NodeID,
                clientAddress: String) {
        self.version = version
        self.requiresAuth = requiresAuth
        self.nonce = nonce
        self.nodeID = nodeID
        self.clientAddress = clientAddress
    }

    /// The HELLO payload bytes.
    public func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(6 + 2 + 1 + nonce.count + 1 + nodeID.utf8.count + 2 + clientAddress.utf8.count)
        out += Self.magic
        out.append(UInt8(version >> 8))
        out.append(UInt8(version & 0xFF))
        out.append(requiresAuth ? 1 : 0)
        out += nonce
        let id = Array(nodeID.utf8.prefix(ClusterCoding.maxNodeIDLength))
        out.append(UInt8(id.count))
        out += id
        let address = Array(clientAddress.utf8.prefix(Self.maxClientAddressBytes))
        out.append(UInt8(address.count >> 8))
        out.append(UInt8(address.count & 0xFF))
        out += address
        return out
    }

    /// Parses a HELLO payload. A version other than ours is reported as `.version` (the magic and the
    /// version come first, so any later version can be told apart from garbage).
    public static func decode(_ payload: ByteBuffer) throws(PeerHandshakeError) -> PeerHello {
        var b = payload
        guard let magic = b.readBytes(length: Self.magic.count), magic == Self.magic else {
            throw PeerHandshakeError(.malformed, "HELLO without the KVPEER magic")
        }
        guard let version = b.readInteger(as: UInt16.self) else { throw PeerHandshakeError(.malformed, "truncated HELLO") }
        guard version == protocolVersion else {
            throw PeerHandshakeError(.version, "peer speaks protocol version \(version), this node speaks \(protocolVersion)")
        }
        guard let flags = b.readInteger(as: UInt8.self), flags <= 1,
              let nonce = b.readBytes(length: nonceBytes),
              let idLength = b.readInteger(as: UInt8.self), idLength > 0,
              let idBytes = b.readBytes(length: Int(idLength)),
              let nodeID = String(validating: idBytes, as: UTF8.self),
              let addressLength = b.readInteger(as: UInt16.self), Int(addressLength) <= maxClientAddressBytes,
              let addressBytes = b.readBytes(length: Int(addressLength)),
              let address = String(validating: addressBytes, as: UTF8.self),
              b.readableBytes == 0
        else { throw PeerHandshakeError(.malformed, "malformed HELLO") }
        return PeerHello(version: version, requiresAuth: flags == 1, nonce: nonce, nodeID: nodeID, clientAddress: address)
    }
}

/// A refused handshake: the reason class and a human-readable explanation.
public struct PeerHandshakeError: Error, Equatable, CustomStringConvertible {
    public var failure: PeerHandshakeFailure
    public var reason: String

    public init(_ failure: PeerHandshakeFailure, _ reason: String) {
        self.failure = failure
        self.reason = reason
    }

    public var description: String { "\(failure): \(reason)" }

    /// The ERROR frame payload: code byte, then the UTF-8 reason.
    public func encode() -> [UInt8] { [failure.rawValue] + Array(reason.utf8.prefix(1000)) }

    /// Parses an ERROR payload (an unknown code reads as `.malformed`).
    public static func decode(_ payload: ByteBuffer) -> PeerHandshakeError {
        var b = payload
        let code = b.readInteger(as: UInt8.self) ?? 0
        let text = b.readBytes(length: b.readableBytes).flatMap { String(validating: $0, as: UTF8.self) } ?? ""
        return PeerHandshakeError(PeerHandshakeFailure(rawValue: code) ?? .malformed, "peer refused: \(text)")
    }
}

/// The AUTH proof: HMAC-SHA256 over the handshake transcript (see PeerFraming.swift).
public enum PeerAuthProof {
    public static let bytes = 32
    static let label: [UInt8] = Array("KVPEER-AUTH-1".utf8)

    /// Whose proof this is: the dialer's or the acceptor's (so a proof can't be reflected back).
    public enum Direction: UInt8, Sendable {
        case dialer = 0x44  // "D"
        case acceptor = 0x41  // "A"
    }

    /// The transcript both sides MAC: label, direction, then both HELLO payloads, length-prefixed.
    public static func transcript(_ direction: Direction, dialerHello: [UInt8], acceptorHello: [UInt8]) -> [UInt8] {
        var t = label
        t.reserveCapacity(label.count + 1 + 8 + dialerHello.count + acceptorHello.count)
        t.append(direction.rawValue)
        for hello in [dialerHello, acceptorHello] {
            let n = UInt32(hello.count)
            t += [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
            t += hello
        }
        return t
    }

    /// HMAC-SHA256(secret, transcript).
    public static func make(secret: [UInt8], _ direction: Direction, dialerHello: [UInt8], acceptorHello: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: secret)
        let t = transcript(direction, dialerHello: dialerHello, acceptorHello: acceptorHello)
        return Array(HMAC<SHA256>.authenticationCode(for: t, using: key))
    }

    /// Checks a received proof in constant time.
    public static func verify(_ proof: [UInt8], secret: [UInt8], _ direction: Direction, dialerHello: [UInt8],
                              acceptorHello: [UInt8]) -> Bool {
        guard proof.count == bytes else { return false }
        let key = SymmetricKey(data: secret)
        let t = transcript(direction, dialerHello: dialerHello, acceptorHello: acceptorHello)
        return HMAC<SHA256>.isValidAuthenticationCode(proof, authenticating: t, using: key)
    }
}
