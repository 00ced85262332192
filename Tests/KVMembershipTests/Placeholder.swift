import KVMembership
import Testing
