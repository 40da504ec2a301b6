// su-exec as the official Consul image uses it (`su-exec UID:GID command args...`, from its docker-entrypoint.sh):
// sets the group and user, then replaces itself with the command. Numeric IDs or names from /etc/passwd and
// /etc/group; supplementary groups are cleared, as su-exec's setgroups does.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "su-exec: "+format+"\n", args...)
	os.Exit(1)
}

// idOf is a numeric ID, or the ID of a name in an /etc/passwd-like file.
func idOf(value, file string) int {
	if id, err := strconv.Atoi(value); err == nil {
		return id
	}
	handle, err := os.Open(file)
	if err != nil {
		fail("%v", err)
	}
	defer handle.Close()
	scanner := bufio.NewScanner(handle)
	for scanner.Scan() {
		fields := strings.Split(scanner.Text(), ":")
		if len(fields) > 2 && fields[0] == value {
			id, _ := strconv.Atoi(fields[2])
			return id
		}
	}
	fail("%s: no such entry in %s", value, file)
	return -1
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: su-exec user-spec command [args]")
	}
	spec := strings.SplitN(os.Args[1], ":", 2)
	uid := idOf(spec[0], "/etc/passwd")
	gid := uid
	if len(spec) == 2 {
		gid = idOf(spec[1], "/etc/group")
	}
	path, err := exec.LookPath(os.Args[2])
	if err != nil {
		fail("%s: %v", os.Args[2], err)
	}
	if err := syscall.Setgroups([]int{}); err != nil {
		fail("setgroups: %v", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		fail("setgid(%d): %v", gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		fail("setuid(%d): %v", uid, err)
	}
	if err := syscall.Exec(path, os.Args[2:], os.Environ()); err != nil {
		fail("%s: %v", os.Args[2], err)
	}
}
