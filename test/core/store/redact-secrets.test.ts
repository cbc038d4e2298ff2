import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { containsSecret, REDACTED, redactOutput, redactSecrets } from '../../../node/core/store/redact.ts';
import { CORPUS, corpusRows, ORDINARY, PRIVATE_KEY, WIDER } from '../../helpers/redact-cases.ts';

describe('redactSecrets: the shared corpus', () => {
  const rows = corpusRows();
  test('the corpus has rows', () => assert.ok(rows.length >= 10, `only ${rows.length} rows in ${CORPUS}`));
  for (const [command, secret] of rows) {
    test(`removes the secret from: ${command.slice(0, 60)}`, () => {
      const out = redactSecrets(command);
      assert.ok(!out.includes(secret), `secret survived: ${out}`);
      assert.ok(out.includes(REDACTED), out);
      assert.ok(containsSecret(command));
    });
  }
});

describe('redactSecrets: wider set, readable afterwards', () => {
  test(`the wider set has at least 40 secrets (${WIDER.length})`, () => assert.ok(WIDER.length >= 40));
  for (const [command, secret, kept] of WIDER) {
    test(`redacts only the secret in: ${command.slice(0, 60)}`, () => {
      const out = redactSecrets(command);
      assert.ok(!out.includes(secret), `secret survived: ${out}`);
      assert.ok(out.includes(REDACTED), out);
      assert.ok(out.includes(kept), `lost "${kept}": ${out}`);
    });
  }
});

describe('redactSecrets: exact results', () => {
  const exact: Array<[string, string]> = [
    ['mysql -u root -pS3cr3t mydb', 'mysql -u root -p[REDACTED] mydb'],
    ['psql postgres://admin:hunter2@db.local:5432/app', 'psql postgres://admin:[REDACTED]@db.local:5432/app'],
    ['curl -u alice:pw123 https://nas.local', 'curl -u alice:[REDACTED] https://nas.local'],
    ['export API_TOKEN="abc def"', 'export API_TOKEN="[REDACTED]"'],
    ['FOO_TOKEN=abc123 ./run.sh --fast', 'FOO_TOKEN=[REDACTED] ./run.sh --fast'],
    ['./deploy.sh --password=Tr0ub4dor&3 --host prod', './deploy.sh --password=[REDACTED] --host prod'],
    ['tool --token t0k3n --verbose', 'tool --token [REDACTED] --verbose'],
    ['curl -H "Authorization: Bearer abc.def.ghi1" x', 'curl -H "Authorization: Bearer [REDACTED]" x'],
    ['docker login -u me -p pw1 registry', 'docker login -u me -p [REDACTED] registry'],
  ];
  for (const [input, expected] of exact) {
    test(input, () => assert.equal(redactSecrets(input), expected));
  }

  test('a private key block loses its body and keeps its armour', () => {
    const out = redactSecrets(PRIVATE_KEY);
    assert.ok(!out.includes('b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'), out);
    assert.ok(!out.includes('QyNTUxOQAAACBm'), out);
    assert.ok(
      out.includes('-----BEGIN OPENSSH PRIVATE KEY-----[REDACTED]-----END OPENSSH PRIVATE KEY-----'),
      out,
    );
    assert.ok(out.startsWith('cat > ~/.ssh/id_ed25519 <<EOF') && out.endsWith('EOF'));
  });

  test('a truncated private key block (no END line) is redacted to the end', () => {
    const out = redactSecrets('-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAtruncated');
    assert.equal(out, '-----BEGIN RSA PRIVATE KEY-----[REDACTED]');
  });

  test('several secrets on one line all go', () => {
    const line =
      'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=abc/def+ghi123 curl -u u:p4ss https://u2:pw2@h';
    const out = redactSecrets(line);
    for (const s of ['AKIAIOSFODNN7EXAMPLE', 'abc/def+ghi123', 'p4ss', 'pw2'])
      assert.ok(!out.includes(s), out);
  });

  test('multi-line text (AI context, command output) is redacted line by line', () => {
    const text = 'ls\nexport A_TOKEN=zzz111\nmkdir -p x\nmysql -pQq1 db\n';
    assert.equal(redactSecrets(text), 'ls\nexport A_TOKEN=[REDACTED]\nmkdir -p x\nmysql -p[REDACTED] db\n');
  });

  test('config files shown as output: YAML keys and .netrc lines', () => {
    const yaml =
      'db:\n  user: app\n  password: "Yam1Pw"\n  secretName: app-secret\n  token:\n    file: /run/t\n';
    assert.equal(
      redactSecrets(yaml),
      'db:\n  user: app\n  password: "[REDACTED]"\n  secretName: app-secret\n  token:\n    file: /run/t\n',
    );
    assert.equal(
      redactSecrets('machine api.example.com login me password N3trcPw'),
      'machine api.example.com login me password [REDACTED]',
    );
    assert.equal(
      redactSecrets('gh secret set API_TOKEN --body "v4lue"'),
      'gh secret set API_TOKEN --body "[REDACTED]"',
    );
  });

  test('redaction is stable: redacting twice changes nothing more', () => {
    for (const [command] of WIDER) {
      const once = redactSecrets(command);
      assert.equal(redactSecrets(once), once);
    }
  });
});

describe('redactSecrets: no false positives', () => {
  for (const command of ORDINARY) {
    test(`unchanged: ${command}`, () => {
      assert.equal(redactSecrets(command), command);
      assert.equal(containsSecret(command), false);
    });
  }

  test('pathological 64 KiB inputs finish quickly (no regex blow-up)', () => {
    const n = 65536;
    const inputs = [
      'curl '.repeat(n / 5),
      'mysql -u '.repeat(n / 9),
      ` x-${'key-'.repeat(n / 4)}`,
      'https://a:'.repeat(n / 10),
      'x <<< '.repeat(n / 6),
      'A'.repeat(n),
      'token='.repeat(n / 6),
      '\n'.repeat(n),
      ` ${' '.repeat(n)}x`,
      'password: '.repeat(n / 10),
      `curl -H "Cookie: a${' '.repeat(n)}X"`,
    ];
    for (const input of inputs) {
      const start = performance.now();
      redactSecrets(input);
      const ms = performance.now() - start;
      assert.ok(ms < 2000, `${input.slice(0, 12)}... took ${ms.toFixed(0)} ms`);
    }
  });
});

describe('multi-word secrets: redacted whole after a prompt or flag that announces one', () => {
  const both: Array<[string, string]> = [
    ['Enter passphrase: correct horse battery staple', 'Enter passphrase: [REDACTED]'],
    ['New password: hunter2 is my pw', 'New password: [REDACTED]'],
    ['echo "passphrase: two words here" > notes', 'echo "passphrase: [REDACTED]" > notes'],
    ['Password: $BACKUP_PW', 'Password: $BACKUP_PW'],
  ];
  for (const [input, expected] of both) {
    test(`command line and output: ${input}`, () => {
      assert.equal(redactSecrets(input), expected);
      assert.equal(redactOutput(input), expected);
    });
  }
  const output: Array<[string, string]> = [
    ['+ sshpass -p tall green tree ssh nas', '+ sshpass -p [REDACTED]'],
    ['+ restic --password warm blue sea --repo /srv', '+ restic --password [REDACTED] --repo /srv'],
    ['+ backup --passphrase a b c; echo done', '+ backup --passphrase [REDACTED]; echo done'],
    ['mkdir -p build dist', 'mkdir -p build dist'],
    ['ssh -p 2222 nas uptime', 'ssh -p 2222 nas uptime'],
  ];
  for (const [input, expected] of output) {
    test(`output, where quotes are gone: ${input}`, () => assert.equal(redactOutput(input), expected));
  }
  test('on a command line the shell words still decide: the next argument stays readable', () => {
    assert.equal(
      redactSecrets('sshpass -p Ssh9PassPw ssh admin@router'),
      'sshpass -p [REDACTED] ssh admin@router',
    );
  });
});
