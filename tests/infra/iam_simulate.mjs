// Evaluates IAM requests against identity policies with @cloud-copilot/iam-simulate (offline; pinned in
// package.json). Reads {"cases": [{"policies": [{name, policy}], "requests": [{action, resource, account,
// context}]}]} on stdin; prints {"cases": [[{"decision", "errors"}]]}, one answer per request, in order.
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const answers = []
for (const simulationCase of input.cases) {
  const caseAnswers = []
  for (const request of simulationCase.requests) {
    const response = await runSimulation(
      {
        identityPolicies: simulationCase.policies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          action: request.action,
          principal: request.principal,
          resource: { resource: request.resource, accountId: request.account },
          contextVariables: request.context,
        },
      },
      {},
    )
    caseAnswers.push(
      response.resultType === 'error'
        ? { decision: 'Error', errors: response.errors }
        : { decision: response.overallResult, errors: null },
    )
  }
  answers.push(caseAnswers)
}
process.stdout.write(JSON.stringify({ cases: answers }))
