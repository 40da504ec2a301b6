// A listener for the engine tests: binds each socket it is given exactly (protocol, address, port) and answers every
// TCP connection or UDP datagram with the socket's tag, so a test sees which listener a published port reached. A
// socket it cannot bind ends it at once with the kernel's words, as a real server would fail to start.
//
// Usage: listener tcp:127.0.0.1:8500:consul-http udp:0.0.0.0:8600:consul-dns ...
package main

import (
	"fmt"
	"net"
	"os"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: listener PROTOCOL:ADDRESS:PORT:TAG ...")
		os.Exit(2)
	}
	for _, spec := range os.Args[1:] {
		parts := strings.SplitN(spec, ":", 4)
		if len(parts) != 4 || (parts[0] != "tcp" && parts[0] != "udp") {
			fmt.Fprintf(os.Stderr, "listener: %q is not PROTOCOL:ADDRESS:PORT:TAG with tcp or udp\n", spec)
			os.Exit(2)
		}
		address := net.JoinHostPort(parts[1], parts[2])
		tag := parts[3] + "\n"
		if parts[0] == "tcp" {
			l, err := net.Listen("tcp4", address)
			if err != nil {
				fmt.Fprintf(os.Stderr, "listener: %v\n", err)
				os.Exit(1)
			}
			go func() {
				for {
					conn, err := l.Accept()
					if err != nil {
						continue
					}
					conn.Write([]byte(tag))
					conn.Close()
				}
			}()
		} else {
			pc, err := net.ListenPacket("udp4", address)
			if err != nil {
				fmt.Fprintf(os.Stderr, "listener: %v\n", err)
				os.Exit(1)
			}
			go func() {
				buf := make([]byte, 2048)
				for {
					_, from, err := pc.ReadFrom(buf)
					if err != nil {
						continue
					}
					pc.WriteTo([]byte(tag), from)
				}
			}()
		}
	}
	fmt.Println("listening")
	select {}
}
