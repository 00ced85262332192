import FuzzShim
import KVCluster
import KVHash
import KVVersioning

// Input: [mode][payload...]. The low 3 bits of `mode` pick the decoder; bit 7 set feeds the payload
// as is (so the checksum check itself is fuzzed), otherwise the payload gets a valid checksum
// appended so the fuzzer reaches the field decoders. Every successful decode must survive a
// round trip: decode(encode(x)) == x.

/// `payload` followed by the 4-byte checksum `VarintWriter.finish()` appends.
func sealed(_ payload: ArraySlice<UInt8>) -> [UInt8] {
    var writer = VarintWriter()
    for byte in payload { writer.byte(byte) }
    return writer.finish()
}

/// Traps (a libFuzzer finding) unless re-encoding `value` decodes to `value` again.
func checkRoundTrip<T: Equatable>(
    _ value: T, _ name: StaticString, encode: (T) -> [UInt8], decode: ([UInt8]) throws(VersionDecodingError) -> T
) {
    let bytes = encode(value)
    do {
        let again = try decode(bytes)
        precondition(again == value, "\(name): decode(encode(x)) != x")
    } catch {
        preconditionFailure("\(name): re-encoded value does not decode: \(error)")
    }
}

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size >= 1 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let mode = input[0]
    let payload = input[1...]
    let bytes = mode & 0x80 != 0 ? Array(payload) : sealed(payload)
    switch mode & 7 {
    case 0, 5:
        if let message = try? ClusterCoding.decodePeerMessage(bytes) {
            checkRoundTrip(message, "PeerMessage", encode: ClusterCoding.encode, decode: ClusterCoding.decodePeerMessage)
        }
    case 1, 6:
        if let object = try? ClusterCoding.decodeStoredObject(bytes) {
            checkRoundTrip(object, "StoredObject", encode: ClusterCoding.encode, decode: ClusterCoding.decodeStoredObject)
        }
    case 2:
        if let hint = try? ClusterCoding.decodeHint(bytes) {
            checkRoundTrip(hint, "Hint", encode: ClusterCoding.encode, decode: ClusterCoding.decodeHint)
        }
    case 3:
        if let set = try? SiblingSetCoding.decode(bytes) {
            checkRoundTrip(set, "SiblingSet", encode: SiblingSetCoding.encode, decode: SiblingSetCoding.decode)
        }
    default:
        if let context = try? CausalContextCoding.decode(bytes) {
            checkRoundTrip(context, "VersionVector", encode: CausalContextCoding.encode, decode: CausalContextCoding.decode)
        }
    }
    return 0
}

/// libFuzzer's per-input entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data, size)
}

/// SwiftPM links executables with `--defsym main=PeerFuzz_main`; hand control to libFuzzer.
@_cdecl("PeerFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in testOneInput(data, size) }
}
