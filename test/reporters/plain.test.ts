import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/events/types.js';
import { clearSecrets, registerSecret } from '../../src/redact.js';
import { createPlainReporter } from '../../src/reporters/plain.js';
import { SECRET, sampleEvents } from './events.js';

function render(verbosity: number, color = false, events: RunEvent[] = sampleEvents()): string {
  clearSecrets();
  registerSecret(SECRET);
  let text = '';
  const r = createPlainReporter((s) => (text += s), { verbosity, color });
  for (const e of events) r.onEvent(e);
  return text;
}

describe('plain reporter', () => {
  it('renders the sample run like ansible-playbook, with a host on every host line', () => {
    expect(render(0)).toMatchInlineSnapshot(`
      "
      PLAY [Configure IAM nodes] *****************************************************

      TASK [show version] ************************************************************
      ok: [node1] (3ms) => {
          "msg": "WSO2 IAM 7.0"
      }

      TASK [base : install packages] *************************************************
      changed: [node1] => (item=unzip) (1.20s)
      ok: [node1] => (item=openjdk-17) (310ms)
      failed: [node2] (item=unzip) (800ms) => No package matching unzip
        rc: 100
      fatal: [node3]: UNREACHABLE! (10.00s) => connect ETIMEDOUT 192.0.2.13:22

      TASK [write deployment.toml] ***************************************************
      changed: [node1] (45ms)
      --- before: /opt/wso2/deployment.toml
      +++ after: /opt/wso2/deployment.toml
      @@ -1,2 +1,2 @@
       [server]
      -hostname = "old"
      +hostname = "iam.example.com"

      TASK [check optional port] *****************************************************
      fatal: [node1]: FAILED! (20ms) => non-zero return code
        cmd: ss -ltn sport = :9446
        rc: 1
        stderr: nothing listening
      ...ignoring

      TASK [try the seed] ************************************************************
      fatal: [node1]: FAILED! (7ms) => seed failed

      TASK [set db password] *********************************************************
      ok: [node1] (1ms)

      TASK [optional task] ***********************************************************
      skipping: [node1]

      RUNNING HANDLER [restart wso2] *************************************************
      changed: [node1 -> lb-1] (2.05s)
      [WARNING]: /pb/site.yml:12:7: password ******** is weak

      PLAY RECAP *********************************************************************
      node1                      : ok=7    changed=4    unreachable=0    failed=0    skipped=1    rescued=1    ignored=1
      node2                      : ok=0    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0
      node3                      : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0

      finished in 14.25s (exit code 2)
      "
    `);
  });

  it('-vvv shows verbose lines, task paths and whole results, pretty-printed', () => {
    expect(render(3)).toMatchInlineSnapshot(`
      "PLAYBOOK: /pb/site.yml (diff)

      PLAY [Configure IAM nodes] *****************************************************

      TASK [show version] ************************************************************
      task path: /pb/site.yml:12:7
      ok: [node1] (3ms) => {
          "msg": "WSO2 IAM 7.0"
      }
      (task took 4ms)

      TASK [base : install packages] *************************************************
      task path: /pb/site.yml:12:7
      <node1> apt-get install -y unzip
      <node1> ESTABLISH SSH CONNECTION FOR USER: deploy
      changed: [node1] => (item=unzip) (1.20s) => {
          "changed": true,
          "item": "unzip"
      }
      ok: [node1] => (item=openjdk-17) (310ms) => {
          "changed": false,
          "item": "openjdk-17"
      }
      failed: [node2] (item=unzip) (800ms) => {
          "failed": true,
          "msg": "No package matching unzip",
          "rc": 100
      }
      fatal: [node3]: UNREACHABLE! (10.00s) => {
          "unreachable": true,
          "msg": "connect ETIMEDOUT 192.0.2.13:22"
      }
      (task took 10.00s)

      TASK [write deployment.toml] ***************************************************
      task path: /pb/site.yml:12:7
      changed: [node1] (45ms) => {
          "changed": true,
          "dest": "/opt/wso2/deployment.toml"
      }
      --- before: /opt/wso2/deployment.toml
      +++ after: /opt/wso2/deployment.toml
      @@ -1,2 +1,2 @@
       [server]
      -hostname = "old"
      +hostname = "iam.example.com"
      (task took 46ms)

      TASK [check optional port] *****************************************************
      task path: /pb/site.yml:12:7
      fatal: [node1]: FAILED! (20ms) => {
          "failed": true,
          "changed": true,
          "cmd": "ss -ltn sport = :9446",
          "rc": 1,
          "stdout": "",
          "stderr": "nothing listening"
      }
      ...ignoring
      (task took 21ms)

      TASK [try the seed] ************************************************************
      task path: /pb/site.yml:12:7
      fatal: [node1]: FAILED! (7ms) => {
          "failed": true,
          "msg": "seed failed"
      }
      (task took 8ms)

      TASK [set db password] *********************************************************
      task path: /pb/site.yml:12:7
      <node1> db_password=********
      ok: [node1] (1ms) => {
          "changed": false,
          "ansible_facts": {
              "db_password": "********"
          }
      }
      (task took 1ms)

      TASK [optional task] ***********************************************************
      task path: /pb/site.yml:12:7
      skipping: [node1] => {
          "changed": false,
          "skipped": true,
          "skip_reason": "Conditional result was False"
      }
      (task took 0ms)

      RUNNING HANDLER [restart wso2] *************************************************
      task path: /pb/site.yml:12:7
      changed: [node1 -> lb-1] (2.05s) => {
          "changed": true,
          "state": "started"
      }
      (task took 2.05s)
      [WARNING]: /pb/site.yml:12:7: password ******** is weak

      PLAY RECAP *********************************************************************
      node1                      : ok=7    changed=4    unreachable=0    failed=0    skipped=1    rescued=1    ignored=1
      node2                      : ok=0    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0
      node3                      : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0

      finished in 14.25s (exit code 2)
      "
    `);
  });

  it('-v shows level-1 verbose lines and compact results, not level 2 and 3', () => {
    const out = render(1);
    expect(out).toContain('<node1> apt-get install -y unzip\n');
    expect(out).not.toContain('ESTABLISH SSH CONNECTION');
    expect(out).not.toContain('task path:');
    expect(out).toContain('changed: [node1] => (item=unzip) (1.20s) => {"changed":true,"item":"unzip"}\n');
  });

  it('never writes a registered secret, at any verbosity', () => {
    for (const v of [0, 1, 2, 3, 4]) {
      const out = render(v);
      expect(out).not.toContain(SECRET);
      expect(out).toContain('********');
    }
  });

  it('colors by status only when asked', () => {
    expect(render(0, false)).not.toContain('\x1b[');
    const colored = render(0, true);
    expect(colored).toContain('\x1b[33mchanged: [node1] => (item=unzip) (1.20s)\x1b[0m');
    expect(colored).toContain('\x1b[31mfatal: [node1]: FAILED! (7ms) => seed failed\x1b[0m');
    expect(colored).toContain('\x1b[31m-hostname = "old"\x1b[0m');
  });

  it('prints the whole-task line of a loop only when no item was shown', () => {
    const T = 0;
    const out = render(0, false, [
      { event: 'task-start', task: 'loop', module: 'command', hosts: ['a'], handler: false, time: T },
      { event: 'host-result', task: 'loop', host: 'a', status: 'failed', msg: "loop must be a list, got the string \"x\"", result: { failed: true }, durationMs: 2, time: T },
      { event: 'task-end', task: 'loop', durationMs: 2, time: T },
    ]);
    expect(out).toContain('fatal: [a]: FAILED! (2ms) => loop must be a list, got the string "x"\n');
  });

  it('prints batches only when a play has several', () => {
    const T = 0;
    const one = render(0, false, [{ event: 'batch-start', play: 'p', batch: 1, batches: 1, hosts: ['a'], time: T }]);
    const two = render(0, false, [{ event: 'batch-start', play: 'p', batch: 2, batches: 3, hosts: ['b', 'c'], time: T }]);
    expect(one).toBe('');
    expect(two).toBe('batch 2/3: b, c\n');
  });
});
