package kernelref

const sysSetns = 268 // setns(2) on arm64
