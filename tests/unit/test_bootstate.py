"""What a node's files make of the persisted state at boot: sysctl.d precedence, modprobe.d
rules, and the problems the validate stage stops a host with."""

from __future__ import annotations

import pytest

from nordkube import bootstate, node
from nordkube.bootstate import ConfigFile
from nordkube.managed import SYSCTL_FILE

OWN = ConfigFile(
    SYSCTL_FILE, SYSCTL_FILE, tuple(node.render_sysctl_file(node.SYSCTLS).splitlines())
)


def file(path: str, *lines: str, target: str | None = None) -> ConfigFile:
    return ConfigFile(path, target or path, lines)


def conflicts(*files: ConfigFile) -> dict[str, tuple[str, str, int]]:
    found = bootstate.sysctl_conflicts(files, node.SYSCTLS, OWN)
    return {c.key: (c.winner.value, c.winner.file.path, c.winner.line) for c in found}


# -- which file the boot reads, in which order ------------------------------------------------


def test_files_apply_in_name_order_whatever_their_directory():
    order = bootstate.boot_order(
        [
            file("/etc/sysctl.d/99-sysctl.conf"),
            file("/etc/sysctl.d/10-local.conf"),
            file("/usr/lib/sysctl.d/50-default.conf"),
            file("/run/sysctl.d/60-runtime.conf"),
        ],
        bootstate.SYSCTL_DIRS,
        bootstate.SYSCTL_SUFFIXES,
    )
    assert [f.path for f in order] == [
        "/etc/sysctl.d/10-local.conf",
        "/usr/lib/sysctl.d/50-default.conf",
        "/run/sysctl.d/60-runtime.conf",
        "/etc/sysctl.d/99-sysctl.conf",
    ]


def test_etc_hides_run_which_hides_usr_lib_for_the_same_name():
    order = bootstate.boot_order(
        [
            file("/usr/lib/sysctl.d/50-x.conf", "a = 1"),
            file("/run/sysctl.d/50-x.conf", "a = 2"),
            file("/etc/sysctl.d/50-x.conf", "a = 3"),
            file("/usr/lib/sysctl.d/60-y.conf"),
            file("/run/sysctl.d/60-y.conf"),
        ],
        bootstate.SYSCTL_DIRS,
        bootstate.SYSCTL_SUFFIXES,
    )
    assert [f.path for f in order] == ["/etc/sysctl.d/50-x.conf", "/run/sysctl.d/60-y.conf"]


def test_names_sort_by_bytes_so_letters_come_after_digits():
    order = bootstate.boot_order(
        [file("/etc/sysctl.d/provider.conf"), file("/etc/sysctl.d/99-zz.conf")],
        bootstate.SYSCTL_DIRS,
        bootstate.SYSCTL_SUFFIXES,
    )
    assert [f.name for f in order] == ["99-zz.conf", "provider.conf"]


def test_only_conf_files_of_the_known_directories_are_read():
    order = bootstate.boot_order(
        [
            file("/etc/sysctl.d/README"),
            file("/etc/sysctl.d/old.conf.bak"),
            file("/etc/sysctl.conf"),
            file("/etc/sysctl.d/ok.conf"),
        ],
        bootstate.SYSCTL_DIRS,
        bootstate.SYSCTL_SUFFIXES,
    )
    assert [f.path for f in order] == ["/etc/sysctl.d/ok.conf"]


# -- sysctl keys and values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("net.ipv4.ip_forward", "net/ipv4/ip_forward"),
        ("net/ipv4/ip_forward", "net/ipv4/ip_forward"),
        ("net.ipv4.conf.enp3s0/200.forwarding", "net/ipv4/conf/enp3s0.200/forwarding"),
        ("net/ipv4/conf/enp3s0.200/forwarding", "net/ipv4/conf/enp3s0.200/forwarding"),
        (" kernel.panic ", "kernel/panic"),
    ],
)
def test_a_key_names_its_proc_sys_path_with_either_separator(key, path):
    assert bootstate.sysctl_path(key) == path


def test_comments_globs_and_non_assignments_are_not_assignments():
    lines = (
        "# net.ipv4.ip_forward = 0",
        "  ; kernel.panic = 0",
        "",
        "net.ipv4.conf.*.rp_filter = 2",
        "-net.ipv4.conf.all.rp_filter",
        "not an assignment",
        "-kernel.panic_on_oops = 0",
        "  vm.overcommit_memory=2  ",
    )
    found = list(bootstate.sysctl_assignments(file("/etc/sysctl.d/x.conf", *lines)))
    assert [(a.key, a.value, a.line) for a in found] == [
        ("kernel.panic_on_oops", "0", 7),
        ("vm.overcommit_memory", "2", 8),
    ]


def test_the_last_assignment_wins_within_a_file_and_across_files():
    winners = bootstate.boot_sysctls(
        [
            file("/etc/sysctl.d/10-a.conf", "kernel.panic = 1", "kernel.panic = 2"),
            file("/etc/sysctl.d/20-b.conf", "kernel/panic = 3"),
        ]
    )
    assert (winners["kernel/panic"].value, winners["kernel/panic"].file.name) == ("3", "20-b.conf")


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [("1", "1", True), ("01", "1", True), ("1024  65535", "1024 65535", True), ("0", "1", False)],
)
def test_values_compare_as_the_kernel_reads_them(left, right, same):
    assert bootstate.same_sysctl_value(left, right) is same


# -- conflicts with the deploy's own file -----------------------------------------------------


def test_no_other_file_no_conflict():
    assert conflicts() == {}


def test_a_later_file_with_another_value_wins_over_the_deploys_file():
    assert conflicts(
        file("/etc/sysctl.d/99-provider.conf", "# provider", "net.ipv4.ip_forward=0")
    ) == {"net.ipv4.ip_forward": ("0", "/etc/sysctl.d/99-provider.conf", 2)}


def test_sysctl_conf_wins_through_the_99_sysctl_symlink():
    link = file("/etc/sysctl.d/99-sysctl.conf", "kernel.panic = 0", target="/etc/sysctl.conf")
    found = bootstate.sysctl_conflicts([link], node.SYSCTLS, OWN)
    assert [(c.key, str(c.winner.file)) for c in found] == [
        ("kernel.panic", "/etc/sysctl.d/99-sysctl.conf (-> /etc/sysctl.conf)")
    ]


def test_a_vendor_file_sorting_later_also_wins():
    assert conflicts(file("/usr/lib/sysctl.d/zz-vendor.conf", "vm.overcommit_memory = 0")) == {
        "vm.overcommit_memory": ("0", "/usr/lib/sysctl.d/zz-vendor.conf", 1)
    }


def test_an_earlier_file_loses_and_a_later_one_with_the_same_value_agrees():
    assert (
        conflicts(
            file("/etc/sysctl.d/10-early.conf", "net.ipv4.ip_forward = 0"),
            file("/etc/sysctl.d/99-late.conf", "net.ipv4.ip_forward = 1", "kernel.panic = 10"),
        )
        == {}
    )


def test_the_deploys_file_as_it_will_be_written_replaces_what_is_there_now():
    stale = file(SYSCTL_FILE, "net.ipv4.ip_forward = 0")
    masked = file(SYSCTL_FILE, target="/dev/null")
    assert conflicts(stale) == {}
    assert conflicts(masked) == {}


def test_a_same_named_file_in_a_later_directory_is_hidden_by_the_deploys_file():
    assert conflicts(file("/usr/lib/sysctl.d/90-nordkube.conf", "net.ipv4.ip_forward = 0")) == {}


def test_a_glob_never_overrides_an_explicit_key():
    assert conflicts(file("/etc/sysctl.d/99-glob.conf", "net.ipv4.ip_fo*ward = 0")) == {}


# -- modprobe.d rules -------------------------------------------------------------------------


def defeats(*files: ConfigFile, cmdline: str = "", modules=("ip_vs", "ip_vs_sh", "overlay")):
    found = bootstate.module_defeats(files, cmdline, modules)
    return {d.module: (d.rule, d.where) for d in found}


def test_install_true_turns_loading_into_a_no_op():
    rules = file("/etc/modprobe.d/provider.conf", "# hardening", "install ip_vs_sh /bin/true")
    assert defeats(rules) == {
        "ip_vs_sh": ("install ip_vs_sh /bin/true", "/etc/modprobe.d/provider.conf line 2")
    }


def test_install_rules_are_globs_and_names_take_dashes_for_underscores():
    rules = file("/etc/modprobe.d/x.conf", "install ip-vs* /bin/false")
    assert set(defeats(rules)) == {"ip_vs", "ip_vs_sh"}


def test_an_install_rule_that_runs_modprobe_ignore_install_still_loads_the_module():
    # As firewalld ships it for nf_conntrack on EL (/usr/lib/modprobe.d/firewalld-sysctls.conf).
    rules = file(
        "/usr/lib/modprobe.d/firewalld-sysctls.conf",
        "install ip_vs /usr/sbin/modprobe --ignore-install ip_vs $CMDLINE_OPTS && \\",
        "    /usr/sbin/sysctl --quiet --pattern 'net[.]ipv4[.]vs.*' --system",
    )
    assert defeats(rules) == {}


def test_only_the_first_matching_install_rule_counts():
    first = file("/etc/modprobe.d/10-ok.conf", "install ip_vs /sbin/modprobe -i ip_vs")
    later = file("/etc/modprobe.d/90-no.conf", "install ip_vs /bin/true")
    assert defeats(first, later) == {}
    assert set(defeats(file("/etc/modprobe.d/10-no.conf", "install ip_vs /bin/true"), later)) == {
        "ip_vs"
    }


def test_blacklist_keeps_a_module_out_at_boot():
    assert defeats(file("/lib/modprobe.d/b.conf", "blacklist overlay")) == {
        "overlay": ("blacklist overlay", "/lib/modprobe.d/b.conf line 1")
    }


def test_an_alias_to_another_module_hijacks_the_lookup():
    assert defeats(
        file("/etc/modprobe.d/a.conf", "alias ip_vs off", "alias ip_vs_sh ip_vs_sh")
    ) == {"ip_vs": ("alias ip_vs off", "/etc/modprobe.d/a.conf line 1")}


def test_comments_continuations_and_other_commands_are_no_rules():
    rules = file(
        "/etc/modprobe.d/c.conf",
        "#install ip_vs /bin/true",
        "# a comment that goes on \\",
        "install ip_vs_sh /bin/true",
        "options ip_vs conn_tab_bits=12",
        "softdep overlay pre: ip_vs",
        "blacklist",
    )
    assert defeats(rules) == {}


def test_a_hidden_or_unread_file_does_not_count():
    hidden = file("/lib/modprobe.d/x.conf", "install ip_vs /bin/true")
    mask = file("/etc/modprobe.d/x.conf", target="/dev/null")
    unread = file("/etc/modprobe.d/x.conf.disabled", "install ip_vs /bin/true")
    assert defeats(hidden, mask, unread) == {}


def test_alias_files_are_read_too():
    assert set(defeats(file("/etc/modprobe.d/old.alias", "blacklist ip_vs"))) == {"ip_vs"}


def test_kernel_command_line_blacklists():
    cmdline = "BOOT_IMAGE=/vmlinuz ro module_blacklist=ip_vs_sh,floppy modprobe.blacklist=overlay"
    assert defeats(cmdline=cmdline) == {
        "ip_vs_sh": ("module_blacklist=ip_vs_sh,floppy", "the kernel command line"),
        "overlay": ("modprobe.blacklist=overlay", "the kernel command line"),
    }


def test_install_rules_for_other_modules_do_not_matter():
    assert defeats(file("/etc/modprobe.d/cis.conf", "install dccp /bin/true")) == {}


# -- the problems a host is stopped with ------------------------------------------------------


def test_each_problem_names_the_host_the_file_the_key_and_the_winning_value():
    boot = {
        "sysctl_files": [
            {"path": "/etc/sysctl.d/99-provider.conf", "lines": ["net.ipv4.ip_forward = 0"]}
        ],
        "modprobe_files": [
            {"path": "/etc/modprobe.d/provider.conf", "lines": ["install ip_vs_sh /bin/true"]}
        ],
        "cmdline": "ro",
    }
    problems = bootstate.boot_state_problems(
        "node1", boot, node.SYSCTLS, OWN, ["ip_vs", "ip_vs_sh", "br_netfilter"]
    )
    assert [str(problem) for problem in problems] == [
        "node1: net.ipv4.ip_forward: /etc/sysctl.d/99-provider.conf line 1 sets 0, which wins"
        " at boot over 1 in /etc/sysctl.d/90-nordkube.conf (sysctl.d files apply in name order,"
        " the last one wins): remove that line or set 1 there, then run the deploy again",
        "node1: ip_vs_sh: `install ip_vs_sh /bin/true` in /etc/modprobe.d/provider.conf line 1"
        " runs instead of loading it, for modprobe and at boot alike, and the node needs it"
        " loaded at every boot (kube-proxy, the CNI, containerd): remove the rule, then run the"
        " deploy again",
    ]


def test_a_node_without_such_files_has_no_problem():
    assert bootstate.boot_state_problems("node1", {}, node.SYSCTLS, OWN, ["ip_vs"]) == []
